package portal

import (
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/metrics"
)

// The chart draws the rate between samples, scaled to the largest.
func TestChartSVG(t *testing.T) {
	t0 := time.Unix(1000, 0)
	samples := []metrics.Sample{{At: t0}, {At: t0.Add(5 * time.Second), Requests: 50}, {At: t0.Add(10 * time.Second), Requests: 50}}
	svg := string(chartSVG(samples, charts["throughput.svg"]))
	if !strings.HasPrefix(svg, "<svg") || !strings.Contains(svg, ">10.0</text>") {
		t.Errorf("chart: want a scale of 10 requests/s: %s", svg)
	}
	if !strings.Contains(svg, `points="56.0,8.0 592.0,156.0 "`) {
		t.Errorf("chart: want 10/s then 0/s across the plot: %s", svg)
	}
	for _, bad := range []string{"<script", "style=", "<style"} {
		if strings.Contains(svg, bad) {
			t.Errorf("chart holds %q: the CSP would refuse it", bad)
		}
	}
	if svg := string(chartSVG(nil, charts["errors.svg"])); strings.Contains(svg, "<polyline") {
		t.Errorf("no samples: want no line: %s", svg)
	}
}
