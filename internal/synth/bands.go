package synth

import "context"

// Why the nation is drawn several times.
//
// The stores keep persons, events and person-directory lines in B-trees ordered by person
// number. Inserted in the order households are drawn, person numbers land all over those
// trees, and SQLite rewrites a page for almost every row: at a million persons, inserts
// were five times slower than at a hundred thousand. Inserted in number order, every row
// lands at the right edge of the trees and the cost per row stays flat.
//
// Holding a whole nation to sort it would cost gigabytes, so the generator cuts the
// number order into bands of about bandPersons persons and draws the nation once per
// band, keeping only that band's persons, which it sorts and writes. Drawing is cheap
// next to writing (about a second per million persons), and every draw from the same
// seed gives the same nation. The population and the directory are separate databases
// written at the same time, so each writer makes its own draws: a pass keeps either
// persons and events, or person-directory lines, but draws every number the other does.

// Passes, by what they keep.
type pass int

const (
	censusPass     pass = iota // keeps nothing: counts persons per birth day to plan the bands
	populationPass             // keeps persons and events
	directoryPass              // keeps person-directory lines
)

// bandPersons is the size of a band: its persons and events take about 180 MB, its lines
// about 100 MB. Nations of more than maxBands bands get larger bands instead, so drawing
// stays a small share of the time. It is a variable for tests.
var bandPersons = 250_000

// The census draws a sample nation of censusPersons persons from the same seed: its
// births spread over the calendar like the full nation's, at a fraction of the cost.
const (
	maxBands      = 16
	censusPersons = 100_000
)

// A band is a range [lo, hi) of the first six digits of person numbers (YYMMDD), which
// order numbers before the sequence does; persons born on the same day share a band.
type band struct{ lo, hi int }

// everyone is the band of a nation small enough to be written in one band.
var everyone = band{0, 1_000_000}

// prefix returns the first six digits of the person number of someone born on day.
func prefix(day int) int {
	d := fromDayNum(day)
	return d.Year()%100*10000 + d.Month()*100 + d.Day()
}

// plan returns the bands of a nation and about how many persons each holds. Small
// nations are one band; larger ones are cut along the births of a census sample.
func plan(ctx context.Context, n *nation) ([]band, []int, error) {
	cfg := n.cfg
	k := min((cfg.Persons+bandPersons-1)/bandPersons, maxBands)
	if k <= 1 {
		return []band{everyone}, []int{cfg.Persons}, nil
	}
	sample := cfg
	sample.Persons = min(cfg.Persons, max(censusPersons, 20*k))
	g := newGen(sample, censusPass, everyone, 0, n.geo, n.net, n.eco)
	if err := g.run(ctx); err != nil {
		return nil, nil, err
	}
	perPrefix := make([]int, everyone.hi)
	for i := range g.seq[0] {
		perPrefix[prefix(g.first+i)] += int(g.seq[0][i]) + int(g.seq[1][i])
	}
	bands, sizes := cut(perPrefix, sample.Persons, k)
	for i := range sizes {
		sizes[i] = sizes[i] * cfg.Persons / sample.Persons
	}
	return bands, sizes, nil
}

// cut splits prefixes into k bands of about equal counts.
func cut(perPrefix []int, total, k int) ([]band, []int) {
	var bands []band
	var sizes []int
	lo, n := 0, 0
	for p, c := range perPrefix {
		n += c
		if n >= (total+k-1)/k && len(bands) < k-1 {
			bands, sizes = append(bands, band{lo, p + 1}), append(sizes, n)
			lo, n = p+1, 0
		}
	}
	return append(bands, band{lo, everyone.hi}), append(sizes, n)
}
