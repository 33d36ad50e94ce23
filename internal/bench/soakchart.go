package bench

import (
	"bytes"
	"fmt"
	"html"
)

// soakChart draws the soak's samples as an SVG: resident memory, anonymous memory, Go heap and store size
// (MB, left axis) and requests a second (right axis) over time. Plain SVG, no script.
func soakChart(samples []soakSample) []byte {
	const w, h, left, right, top, bottom = 900.0, 420.0, 60.0, 70.0, 30.0, 50.0
	var maxT, maxMB, maxRate float64
	for _, s := range samples {
		maxT = max(maxT, s.at.Seconds())
		maxMB = max(maxMB, s.rss/1e6, s.heap/1e6, float64(s.storeBytes)/1e6)
		maxRate = max(maxRate, s.ratePerSecond)
	}
	maxT, maxMB, maxRate = max(maxT, 1), niceCeil(max(maxMB, 1)), niceCeil(max(maxRate, 1))
	x := func(t float64) float64 { return left + (w-left-right)*t/maxT }
	y := func(v, top2 float64) float64 { return h - bottom - (h-top-bottom)*v/top2 }
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%.0f" y="18" font-size="14">crossroads bench soak: memory, store and rate over %.0f s</text>`+"\n", left, maxT)
	for i := 0; i <= 5; i++ { // grid and axes' labels
		v := float64(i) / 5
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, y(v, 1), w-right, y(v, 1))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%.0f MB</text>`+"\n", left-4, y(v, 1)+4, v*maxMB)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%.0f/s</text>`+"\n", w-right+4, y(v, 1)+4, v*maxRate)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%.0f s</text>`+"\n", x(v*maxT), h-bottom+16, v*maxT)
	}
	series := []struct {
		name, color string
		top         float64
		value       func(soakSample) float64
	}{
		{"resident memory (MB)", "#d62728", maxMB, func(s soakSample) float64 { return s.rss / 1e6 }},
		{"resident anonymous (MB)", "#9467bd", maxMB, func(s soakSample) float64 { return s.anon / 1e6 }},
		{"Go heap in use (MB)", "#1f77b4", maxMB, func(s soakSample) float64 { return s.heap / 1e6 }},
		{"store on disk (MB)", "#2ca02c", maxMB, func(s soakSample) float64 { return float64(s.storeBytes) / 1e6 }},
		{"requests/s (right axis)", "#999", maxRate, func(s soakSample) float64 { return s.ratePerSecond }},
	}
	for i, s := range series {
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="`, s.color)
		for _, p := range samples {
			fmt.Fprintf(&b, "%.1f,%.1f ", x(p.at.Seconds()), y(s.value(p), s.top))
		}
		b.WriteString("\"/>\n")
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" fill="%s">%s</text>`+"\n", left+float64(i)*200, h-12, s.color, html.EscapeString(s.name))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := 1.0
	for p*10 <= v {
		p *= 10
	}
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
