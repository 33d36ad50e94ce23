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

// Tabulate sums counts by right and the dimensions by, suppressing cells under K.
func Tabulate(counts []Count, by []string) []Cell {
	type key struct{ right, a, b, c string }
	sums := map[key]int{}
	var order []key
	for _, c := range counts {
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
		}
		sums[k] += c.Persons
	}
	slices.SortFunc(order, func(x, y key) int {
		return strings.Compare(x.right+"\x00"+x.a+"\x00"+x.b+"\x00"+x.c, y.right+"\x00"+y.a+"\x00"+y.b+"\x00"+y.c)
	})
	out := make([]Cell, 0, len(order))
	for _, k := range order {
		c := Cell{Right: k.right, By: map[string]string{}}
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
