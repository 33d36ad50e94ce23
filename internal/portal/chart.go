package portal

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strconv"

	"github.com/crossroads-hub/crossroads/internal/metrics"
)

// The console's charts: the hub's own HTTP counters, sampled into a ring
// (metrics.Ring), drawn here as SVG images. They are served as images of the portal's
// own origin, refreshed by portal.js: the CSP stays strict (no inline script or style,
// only presentation attributes in the SVG).

// series is one line of a chart: its name, colour and the counter it takes from a sample.
type series struct {
	Name, Colour string
	Of           func(metrics.Sample) uint64
}

var charts = map[string][]series{
	"throughput.svg": {{"requests/s", "#0b5cad", func(s metrics.Sample) uint64 { return s.Requests }}},
	"errors.svg": {
		{"4xx/s", "#b35900", func(s metrics.Sample) uint64 { return s.Refused }},
		{"5xx/s", "#b00020", func(s metrics.Sample) uint64 { return s.Failed }},
	},
}

// adminChart draws a chart for an administrator; anyone else finds nothing.
func (p *Portal) adminChart(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	lines, ok := charts[r.PathValue("chart")]
	if ss.Admin == "" || p.cfg.Admin == nil || p.cfg.Admin.Metrics == nil || !ok {
		return pageErr(http.StatusNotFound, "error.notfound", nil)
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Write(chartSVG(p.cfg.Admin.Metrics.Samples(), lines))
	return nil
}

const (
	chartW, chartH = 600, 180
	padL, padB     = 56, 24
)

// chartSVG draws the rate of each series between successive samples, over the time
// the samples span; the scale is the largest rate, at least 1 a second.
func chartSVG(samples []metrics.Sample, lines []series) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img">`, chartW, chartH, chartW, chartH)
	b.WriteString(`<rect x="0" y="0" width="600" height="180" fill="#ffffff"/>`)
	rates := make([][]float64, len(lines))
	top := 1.0
	for i, l := range lines {
		for j := 1; j < len(samples); j++ {
			dt := samples[j].At.Sub(samples[j-1].At).Seconds()
			v := 0.0
			if a, z := l.Of(samples[j-1]), l.Of(samples[j]); dt > 0 && z >= a {
				v = float64(z-a) / dt
			}
			rates[i] = append(rates[i], v)
			top = max(top, v)
		}
	}
	plotW, plotH := float64(chartW-padL-8), float64(chartH-padB-8)
	fmt.Fprintf(&b, `<line x1="%d" y1="8" x2="%d" y2="%d" stroke="#666666"/><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#666666"/>`,
		padL, padL, chartH-padB, padL, chartH-padB, chartW-8, chartH-padB)
	fmt.Fprintf(&b, `<text x="4" y="18" font-size="12" fill="#222222">%s</text><text x="4" y="%d" font-size="12" fill="#222222">0</text>`,
		template.HTMLEscapeString(strconv.FormatFloat(top, 'f', 1, 64)), chartH-padB)
	span := ""
	if n := len(samples); n > 1 {
		span = samples[n-1].At.Sub(samples[0].At).Round(1e9).String()
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" fill="#222222">%s</text>`, padL, chartH-6, template.HTMLEscapeString("−"+span+" … now"))
	for i, l := range lines {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" fill="%s">%s</text>`, chartW-90*(len(lines)-i), chartH-6, l.Colour, template.HTMLEscapeString(l.Name))
		if len(rates[i]) == 0 {
			continue
		}
		fmt.Fprintf(&b, `<polyline class="series" fill="none" stroke="%s" stroke-width="2" points="`, l.Colour)
		step := plotW / float64(max(len(rates[i])-1, 1))
		for j, v := range rates[i] {
			fmt.Fprintf(&b, "%.1f,%.1f ", float64(padL)+step*float64(j), 8+plotH*(1-v/top))
		}
		b.WriteString(`"/>`)
	}
	b.WriteString(`</svg>`)
	return b.Bytes()
}
