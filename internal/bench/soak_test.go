package bench

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

// TestSoakChart: the chart is well-formed SVG with one line per series, a point per
// sample; thirdsPeak takes the peaks of the middle and last thirds.
func TestSoakChart(t *testing.T) {
	var samples []soakSample
	for i := range 9 {
		samples = append(samples, soakSample{at: time.Duration(i) * 5 * time.Second, rss: float64(100+10*i) * 1e6, heap: 40e6,
			storeBytes: int64(i) * 1e6, ratePerSecond: 3000})
	}
	svg := soakChart(samples)
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	lines := 0
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("soakChart is not XML: %v\n%s", err, svg)
			}
			break
		}
		if el, ok := tok.(xml.StartElement); ok && el.Name.Local == "polyline" {
			lines++
			for _, a := range el.Attr {
				if a.Name.Local == "points" && len(strings.Fields(a.Value)) != len(samples) {
					t.Errorf("a line of %d points; want %d", len(strings.Fields(a.Value)), len(samples))
				}
			}
		}
	}
	if lines != 5 {
		t.Errorf("soakChart draws %d lines; want 5", lines)
	}
	if mid, end := thirdsPeak(samples, func(s soakSample) float64 { return s.rss }); mid != 150e6 || end != 180e6 {
		t.Errorf("thirdsPeak = %v, %v; want 150 MB, 180 MB", mid, end)
	}
}
