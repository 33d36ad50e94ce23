package rights

import (
	"context"
	"slices"
)

// NonTakeUp is, for each rule paid on an application elsewhere (Rule.Application), the
// persons who meet it on the facts and are not enrolled in its programme.
type NonTakeUp struct {
	Persons int              `json:"persons"`
	Rules   []NonTakeUpRule  `json:"rules"`
	Groups  []GroupNonTakeUp `json:"groups"`
}

// NonTakeUpRule sums up one rule.
type NonTakeUpRule struct {
	Right     string   `json:"right"`
	Programme string   `json:"programme"`
	Meet      int      `json:"meet"`
	Receive   int      `json:"receive"`
	NotTaken  int      `json:"not_taken_up"`
	List      []string `json:"persons,omitempty"` // the first of them, when asked for
}

// GroupNonTakeUp counts those not taking up a right in one group (nil: suppressed).
type GroupNonTakeUp struct {
	Right     string `json:"right"`
	Dimension string `json:"dimension"`
	Value     string `json:"value"`
	Persons   *int   `json:"persons"`
}

// NonTakeUp evaluates the catalogue's application-based rules on every person's facts;
// list > 0 keeps up to that many person numbers a rule (for the granting institution's
// outreach).
func (e *Engine) NonTakeUp(ctx context.Context, list int) (NonTakeUp, error) {
	cat := e.Catalogue()
	var rules []*Compiled
	for _, r := range cat.rules {
		if r.Application {
			rules = append(rules, r)
		}
	}
	var out NonTakeUp
	byRule := make([]NonTakeUpRule, len(rules))
	groups := map[[3]string]int{}
	for i, r := range rules {
		byRule[i] = NonTakeUpRule{Right: r.ID, Programme: r.Programme}
	}
	ev := cat.evaluator()
	err := e.Facts.Each(ctx, cat, "", date0(e), func(b Batch) error {
		ev.refused = b.Refused
		for i := range b.Facts {
			f := &b.Facts[i]
			ev.run(f)
			for k, r := range rules {
				if !ev.holds(r.ID) {
					continue
				}
				byRule[k].Meet++
				if slices.Contains(f.Enrolled, r.Programme) {
					byRule[k].Receive++
					continue
				}
				byRule[k].NotTaken++
				if len(byRule[k].List) < list {
					byRule[k].List = append(byRule[k].List, f.Person)
				}
				groups[[3]string{r.ID, "region", f.Region}]++
				groups[[3]string{r.ID, "age_band", AgeBand(f.Age)}]++
				groups[[3]string{r.ID, "household_type", HouseholdType(f)}]++
			}
		}
		out.Persons += len(b.Facts)
		return nil
	})
	out.Rules = byRule
	keys := make([][3]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [3]string) int {
		return compare3(a, b)
	})
	for _, k := range keys {
		out.Groups = append(out.Groups, GroupNonTakeUp{Right: k[0], Dimension: k[1], Value: k[2], Persons: shown(groups[k])})
	}
	return out, err
}

func compare3(a, b [3]string) int {
	for i := range a {
		if c := cmpString(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}
