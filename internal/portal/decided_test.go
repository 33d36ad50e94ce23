package portal

import (
	"context"
	"slices"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/rights"
)

type fixedStatuses []Status

func (f fixedStatuses) Statuses(context.Context, string, date.Date) ([]Status, error) { return f, nil }

// TestDecidedKeepsDerivedWhereNoDecision: a derived status is hidden by a decision that
// covers it, and kept where the covering right has no decision on the day (none stored,
// or stored after the day).
func TestDecidedKeepsDerivedWhereNoDecision(t *testing.T) {
	day := date.Of(2026, 12, 7)
	granted := func(on date.Date) []rights.Decision {
		return []rights.Decision{{Right: "person-with-disability", Result: rights.Granted, Effective: on, Version: 1}}
	}
	derived := fixedStatuses{{ID: "disabled"}, {ID: "vulnerable"}, {ID: "programme:disability-allowance"}}
	for _, tc := range []struct {
		name    string
		history []rights.Decision
		holds   bool
		want    []string
	}{
		{"no decision", nil, false, []string{"right:person-with-disability", "disabled", "vulnerable", "programme:disability-allowance"}},
		{"granted before the day", granted(day.AddDays(-3)), true, []string{"right:person-with-disability", "vulnerable"}},
		{"granted on the day", granted(day), true, []string{"right:person-with-disability", "vulnerable"}},
		{"granted after the day", granted(day.AddDays(1)), false, []string{"right:person-with-disability", "disabled", "vulnerable", "programme:disability-allowance"}},
		{"ended", append(granted(day.AddDays(-9)), rights.Decision{Right: "person-with-disability", Result: rights.Ended, Effective: day.AddDays(-1)}),
			false, []string{"right:person-with-disability", "vulnerable"}},
	} {
		d := &decided{derived: derived, rights: &Rights{
			Covers: map[string][]string{"person-with-disability": {"disabled", "programme:disability-allowance"}},
			Explain: func(ctx context.Context, person string, on date.Date) ([]rights.Explanation, error) {
				return []rights.Explanation{{Right: "person-with-disability", Day: on, History: tc.history,
					Rule: rights.RuleText{ID: "person-with-disability", Title: "Person with a disability"}}}, nil
			}}}
		list, err := d.Statuses(context.Background(), "p", day)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, s := range list {
			ids = append(ids, s.ID)
		}
		if !slices.Equal(ids, tc.want) || list[0].Holds != tc.holds {
			t.Errorf("%s: statuses %v, right held %t; want %v, %t", tc.name, ids, list[0].Holds, tc.want, tc.holds)
		}
	}
}
