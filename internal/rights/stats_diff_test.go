package rights

import (
	"strings"
	"testing"
)

// TestTabulateCannotBeDifferenced: a coarser breakdown is the sum of the finest cells
// published, so subtracting breakdowns recovers no suppressed cell (an outsider
// recovered 66 cells of 2 to 9 persons that way before).
func TestTabulateCannotBeDifferenced(t *testing.T) {
	g := func(region, age, household string, n int) Count {
		return Count{Right: "r", Group: Group{Region: region, AgeBand: age, HouseholdType: household}, Persons: n}
	}
	counts := []Count{g("R1", "65+", "single", 40), g("R1", "65+", "couple", 3), g("R1", "18-64", "single", 25), g("R2", "65+", "single", 9)}
	val := func(cells []Cell, match map[string]string) (int, int) {
		for _, c := range cells {
			ok := true
			for k, v := range match {
				ok = ok && c.By[k] == v
			}
			if ok && len(c.By) == len(match) {
				if c.Persons == nil {
					return -1, c.Withheld
				}
				return *c.Persons, c.Withheld
			}
		}
		t.Fatalf("no cell %v", match)
		return 0, 0
	}
	two := Tabulate(counts, []string{"region", "age_band"})
	three := Tabulate(counts, []string{"region", "age_band", "household_type"})
	if n, w := val(two, map[string]string{"region": "R1", "age_band": "65+"}); n != 40 || w != 1 {
		t.Errorf("R1 × 65+ = %d (withheld %d); want 40, the couple's 3 left out and counted as withheld", n, w)
	}
	if n, _ := val(three, map[string]string{"region": "R1", "age_band": "65+", "household_type": "couple"}); n != -1 {
		t.Errorf("the couple's cell = %d; want suppressed", n)
	}
	if n, w := val(Tabulate(counts, []string{"region"}), map[string]string{"region": "R2"}); n != -1 || w != 1 {
		t.Errorf("R2 = %d (withheld %d); want suppressed: its only fine cell is", n, w)
	}
	// The total of a right is the sum of the published fine cells too.
	total := Tabulate(counts, nil)
	if len(total) != 1 || total[0].Persons == nil || *total[0].Persons != 65 || total[0].Withheld != 2 {
		t.Errorf("total = %+v; want 65 with 2 cells withheld", total)
	}
	for _, c := range three {
		if c.Persons != nil && *c.Persons < K || strings.Contains(c.Right, "\x00") {
			t.Errorf("cell %+v under K shown", c)
		}
	}
}
