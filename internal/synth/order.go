package synth

import (
	"cmp"
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// The stores keep persons, events and integrations in B-trees ordered by person number.
// Handing them a chunk in that order turns random inserts into a forward sweep, which cut
// SQLite's share of a 100,000-person nation by about a fifth. Person numbers have a fixed
// width, so their string order is their numeric order. (Sorting an index instead of the
// large structs was measured slower: the compares then chase pointers.)

// sortPopulation orders persons by number and events by person, each person's events
// staying in date order.
func sortPopulation(ps []population.Person, evs []population.Event) {
	slices.SortFunc(ps, func(a, b population.Person) int { return strings.Compare(a.Number, b.Number) })
	slices.SortStableFunc(evs, func(a, b population.Event) int { return strings.Compare(a.Person, b.Person) })
}

// sortLines orders lines by the person directory's key: person, institution, capacity, begin.
func sortLines(ls []directory.Line) {
	slices.SortFunc(ls, func(a, b directory.Line) int {
		return cmp.Or(strings.Compare(a.Person, b.Person), strings.Compare(a.Institution, b.Institution),
			strings.Compare(a.Capacity, b.Capacity), cmp.Compare(a.Begin, b.Begin))
	})
}
