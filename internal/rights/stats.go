package rights

import (
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// K is the smallest count shown: a cell of fewer persons is suppressed, so that no
// person can be singled out.
const K = 10

// Dimensions a statistic may be broken down by.
var Dimensions = []string{"region", "age_band", "household_type"}

// Cell is one line of a statistic: a right, the values of the dimensions asked for,
// and the number of persons holding the right, nil when suppressed (fewer than K).
type Cell struct {
	Right   string            `json:"right"`
	By      map[string]string `json:"by"`
	Persons *int              `json:"persons"`
	// Withheld is the number of the finest cells (right, region, age band, household
	// type) under K that this cell leaves out.
	Withheld int `json:"withheld_cells,omitempty"`
}

// ParseBy reads a comma-separated list of dimensions.
func ParseBy(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for _, d := range strings.Split(s, ",") {
		d = strings.TrimSpace(d)
		if !slices.Contains(Dimensions, d) {
			return nil, fault.Invalidf("by", "%q is not a dimension: use %s", clip(d), strings.Join(Dimensions, ", "))
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// Tabulate sums counts by right and the dimensions by, suppressing cells under K. It
// suppresses the finest cells (every dimension) first and sums only those published:
// a coarser cell is never more than the sum of finer ones anybody can read, so no two
// breakdowns can be subtracted to recover a suppressed cell (they could: an outsider
// recovered 66 cells of 2 to 9 persons from region × age band against region × age band
// × household type).
func Tabulate(counts []Count, by []string) []Cell {
	type fineKey struct{ right, region, age, household string }
	fine := map[fineKey]int{}
	for _, c := range counts {
		fine[fineKey{c.Right, c.Region, c.AgeBand, c.HouseholdType}] += c.Persons
	}
	published := make([]Count, 0, len(fine))
	for k, n := range fine {
		c := Count{Right: k.right, Group: Group{Region: k.region, AgeBand: k.age, HouseholdType: k.household}, Persons: n}
		if n < K {
			c.Persons = -1 // withheld: counted in its coarser cells as withheld, not summed
		}
		published = append(published, c)
	}
	type key struct{ right, a, b, c string }
	sums := map[key]int{}
	withheld := map[key]int{}
	var order []key
	for _, c := range published {
		vals := [3]string{}
		for i, d := range by {
			switch d {
			case "region":
				vals[i] = c.Region
			case "age_band":
				vals[i] = c.AgeBand
			case "household_type":
				vals[i] = c.HouseholdType
			}
		}
		k := key{c.Right, vals[0], vals[1], vals[2]}
		if _, ok := sums[k]; !ok {
			order = append(order, k)
			sums[k] = 0
		}
		if c.Persons < 0 {
			withheld[k]++
			continue
		}
		sums[k] += c.Persons
	}
	slices.SortFunc(order, func(x, y key) int {
		return strings.Compare(x.right+"\x00"+x.a+"\x00"+x.b+"\x00"+x.c, y.right+"\x00"+y.a+"\x00"+y.b+"\x00"+y.c)
	})
	out := make([]Cell, 0, len(order))
	for _, k := range order {
		c := Cell{Right: k.right, By: map[string]string{}, Withheld: withheld[k]}
		for i, d := range by {
			c.By[d] = [3]string{k.a, k.b, k.c}[i]
		}
		if n := sums[k]; n >= K {
			c.Persons = &n
		}
		out = append(out, c)
	}
	return out
}
