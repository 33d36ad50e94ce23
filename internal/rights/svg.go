package rights

import (
	"fmt"
	"html"
	"strings"
)

// SVG draws the simulation: for each right, a bar of the persons who would gain it
// (green, to the right) and of those who would lose it (red, to the left), with the
// holders before and after; then the same for each region of the rights that change.
func (s Simulation) SVG() []byte {
	type bar struct {
		label      string
		gain, lose int
		note       string
	}
	var bars []bar
	for _, r := range s.Rights {
		bars = append(bars, bar{r.Title, r.Gain, r.Lose, fmt.Sprintf("%d → %d", r.Before, r.After)})
	}
	regional := false
	for _, g := range s.Groups {
		if g.Dimension != "region" || (deref(g.Gain) == 0 && deref(g.Lose) == 0) {
			continue
		}
		if !regional {
			bars = append(bars, bar{label: "By region"})
			regional = true
		}
		note := ""
		if g.Gain == nil || g.Lose == nil {
			note = "fewer than 10 suppressed"
		}
		bars = append(bars, bar{"  " + g.Right + ", " + g.Value, deref(g.Gain), deref(g.Lose), note})
	}
	most := 1
	for _, b := range bars {
		most = max(most, b.gain, b.lose)
	}
	const width, left, mid, half, row = 1000, 330, 640, 250, 26
	h := 80 + row*len(bars)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="13">`+"\n", width, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="24" font-size="16" font-weight="bold">What-if on %d persons (%s): who gains (green) and who loses (red) each right</text>`+"\n", s.Persons, s.Day)
	fmt.Fprintf(&b, `<line x1="%d" y1="40" x2="%d" y2="%d" stroke="#444"/>`+"\n", mid, mid, h-20)
	for i, x := range bars {
		y := 50 + i*row
		fmt.Fprintf(&b, `<text x="10" y="%d">%s</text>`+"\n", y+14, html.EscapeString(x.label))
		if x.gain == 0 && x.lose == 0 && x.note == "" {
			continue
		}
		lw, gw := half*x.lose/most, half*x.gain/most
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="18" fill="#c0392b"><title>lose: %d</title></rect>`+"\n", mid-lw, y, lw, x.lose)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="18" fill="#27ae60"><title>gain: %d</title></rect>`+"\n", mid, y, gw, x.gain)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">-%d</text>`+"\n", max(left, mid-lw-4), y+14, x.lose)
		fmt.Fprintf(&b, `<text x="%d" y="%d">+%d  %s</text>`+"\n", mid+gw+4, y+14, x.gain, html.EscapeString(x.note))
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
