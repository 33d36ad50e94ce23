package mutations

import (
	"slices"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
)

const (
	parent  = "85073003328" // a pensioner whose child the child-benefit fund pays for
	child   = "10010100104"
	lonely  = "40021500272" // a pensioner without children
	newborn = "26050100125"
)

var today = date.Of(2026, 6, 1)

func router() *Router {
	x := directory.NewIndex()
	since := date.Of(2020, 1, 1)
	for _, g := range []directory.Integration{
		{Person: parent, Institution: "PENSION-FUND", Capacity: "001"},
		{Person: parent, Institution: "HEALTH-INSURER-1", Capacity: "000"},
		{Person: parent, Institution: "CHILD-BENEFIT-NORTH", Capacity: "011"},
		{Person: parent, Institution: "EMPLOYER-1", Capacity: "030"}, // no subscription
		{Person: parent, Institution: "TAX-OFFICE", Capacity: "000"}, // authorization expired
		{Person: child, Institution: "CHILD-BENEFIT-NORTH", Capacity: "010"},
		{Person: lonely, Institution: "PENSION-FUND", Capacity: "001"},
		{Person: lonely, Institution: "HEALTH-INSURER-1", Capacity: "000"},
	} {
		g.Begin = since
		x.Add(g)
	}
	auth := func(id, inst string, caps []string, fields ...string) directory.Authorization {
		return directory.Authorization{ID: id, Institution: inst, Service: "civil-person", Fields: fields, Purpose: "p",
			Capacities: caps, ValidFrom: since, Decision: "d"}
	}
	tax := auth("A-9", "TAX-OFFICE", []string{"000"}, "given_name")
	tax.ValidTo = date.Of(2024, 12, 31)
	policy := exchange.NewPolicy([]directory.Authorization{
		auth("A-1", "PENSION-FUND", []string{"001"}, "given_name", "family_name", "death_date"),
		auth("A-2", "HEALTH-INSURER-1", []string{"000"}, "given_name", "death_date", "birth_date"),
		auth("A-3", "CHILD-BENEFIT-NORTH", []string{"010", "011"}, "given_name", "death_date", "birth_date", "mother", "father"),
		tax,
	}, x)
	sub := func(inst string, events []string, caps ...string) directory.Subscription {
		return directory.Subscription{ID: "sub-" + inst, Institution: inst, EventTypes: events, Capacities: caps, Mode: directory.ModePush, Endpoint: "http://x/" + inst}
	}
	cancelled := sub("HEALTH-INSURER-2", []string{"death"})
	cancelled.Status = directory.SubscriptionCancelled
	subs := []directory.Subscription{
		sub("PENSION-FUND", []string{"death", "address"}, "001"),
		sub("HEALTH-INSURER-1", []string{"death", "birth"}),
		sub("CHILD-BENEFIT-NORTH", []string{"birth", "death"}, "010", "011"),
		sub("MUSEUM", []string{"death", "birth"}),
		sub("TAX-OFFICE", []string{"death"}),
		cancelled,
	}
	return &Router{
		Files:         x.Files,
		Subscriptions: func() []directory.Subscription { return subs },
		Policy:        func() *exchange.Policy { return policy },
	}
}

func recipients(ds []Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Subscription.Institution)
	}
	slices.Sort(out)
	return out
}

func TestRoute(t *testing.T) {
	r := router()
	record := map[string]any{"@type": "Person", "person": parent, "given_name": "Ann", "family_name": "Lee", "death_date": "2026-05-31", "address": map[string]any{"street": "Main"}}
	tests := []struct {
		name string
		m    Mutation
		want []string
	}{
		{"death of a parent", Mutation{Type: "death", Person: parent, Record: record},
			[]string{"CHILD-BENEFIT-NORTH", "HEALTH-INSURER-1", "PENSION-FUND"}},
		{"death without children in the fund's files", Mutation{Type: "death", Person: lonely, Record: record},
			[]string{"HEALTH-INSURER-1", "PENSION-FUND"}},
		{"birth: the fund of the parents", Mutation{Type: "birth", Person: newborn, Related: []string{parent}, Record: record},
			[]string{"CHILD-BENEFIT-NORTH", "HEALTH-INSURER-1"}},
		{"nobody has a file", Mutation{Type: "death", Person: "99999999999", Record: record}, nil},
		{"an event nobody subscribed to", Mutation{Type: "divorce", Person: parent, Record: record}, nil},
	}
	for _, tt := range tests {
		tt.m.Source, tt.m.Service, tt.m.Seq, tt.m.Date = "civil", "civil-person", 7, today
		got, decisions := r.Route(tt.m)
		if g := recipients(got); !slices.Equal(g, tt.want) {
			t.Errorf("%s: recipients %v; want %v", tt.name, g, tt.want)
		}
		for _, d := range decisions {
			if d.Institution == "MUSEUM" || d.Institution == "EMPLOYER-1" || d.Institution == "HEALTH-INSURER-2" {
				t.Errorf("%s: a decision for %s, which has no file or no subscription in force", tt.name, d.Institution)
			}
			if d.Institution == "TAX-OFFICE" && (d.Deliver || d.Reason == "") {
				t.Errorf("%s: TAX-OFFICE's expired authorization let it through: %+v", tt.name, d)
			}
		}
	}
}

func TestRouteMinimises(t *testing.T) {
	r := router()
	m := Mutation{Source: "civil", Service: "civil-person", Seq: 42, Type: "death", Person: lonely, Date: today,
		Record: map[string]any{"@type": "Person", "person": lonely, "given_name": "Bo", "family_name": "Ek", "death_date": "2026-05-31",
			"birth_date": "1950-02-15", "address": map[string]any{"street": "Main"}}}
	got, _ := r.Route(m)
	for _, d := range got {
		if d.Key != "civil:42/"+d.Subscription.ID {
			t.Errorf("key %q", d.Key)
		}
		_, hasAddress := d.Record["address"]
		_, hasBirth := d.Record["birth_date"]
		switch d.Subscription.Institution {
		case "PENSION-FUND":
			if hasAddress || hasBirth || d.Record["death_date"] == nil || d.Capacity != "001" || d.Authorization != "A-1" {
				t.Errorf("pension fund's copy %+v", d)
			}
		case "HEALTH-INSURER-1":
			if hasAddress || !hasBirth || d.Record["family_name"] != nil {
				t.Errorf("insurer's copy %+v", d.Record)
			}
		}
	}
}

// A death recorded late, dated before the files on the person began (a person
// registered while already dead), reaches the files in force on the day it is routed;
// another change dated before the files does not.
func TestRouteDeathBeforeTheFile(t *testing.T) {
	r := router()
	r.Today = func() date.Date { return today }
	record := map[string]any{"person": lonely, "death_date": "2019-06-01"}
	got, _ := r.Route(Mutation{Source: "civil", Service: "civil-person", Seq: 8, Type: "death", Person: lonely, Date: date.Of(2019, 6, 1), Record: record})
	if g, want := recipients(got), []string{"HEALTH-INSURER-1", "PENSION-FUND"}; !slices.Equal(g, want) {
		t.Errorf("death dated before the files: recipients %v; want %v", g, want)
	}
	got, _ = r.Route(Mutation{Source: "civil", Service: "civil-person", Seq: 9, Type: "address", Person: lonely, Date: date.Of(2019, 6, 1), Record: record})
	if len(got) != 0 {
		t.Errorf("an address change dated before the files: recipients %v; want none", recipients(got))
	}
}

// TestConcerns: Concerns says whether Route decides anything (a delivery, or a refusal
// to record), so that a caller may skip deriving the record of a change nobody takes.
func TestConcerns(t *testing.T) {
	r := router()
	r.Today = func() date.Date { return today }
	tests := []struct {
		name string
		m    Mutation
		want bool
	}{
		{"death of a parent", Mutation{Type: "death", Person: parent, Date: today}, true},
		{"an address: the pension fund's capacity", Mutation{Type: "address", Person: lonely, Date: today}, true},
		{"birth: through a related person", Mutation{Type: "birth", Person: newborn, Related: []string{parent}, Date: today}, true},
		{"a child's birth: the fund's capacity 010", Mutation{Type: "birth", Person: child, Date: today}, true},
		{"an address of a child: no subscription in its capacity", Mutation{Type: "address", Person: child, Date: today}, false},
		{"nobody has a file", Mutation{Type: "death", Person: "99999999999", Date: today}, false},
		{"an event nobody subscribed to", Mutation{Type: "divorce", Person: parent, Date: today}, false},
		{"dated before the files", Mutation{Type: "address", Person: lonely, Date: date.Of(2019, 6, 1)}, false},
		{"a death dated before the files: routed on the files of today", Mutation{Type: "death", Person: lonely, Date: date.Of(2019, 6, 1)}, true},
		{"a refusal is a decision: the tax office's expired authorization", Mutation{Type: "death", Person: parent, Date: today}, true},
	}
	for _, tt := range tests {
		tt.m.Source, tt.m.Service, tt.m.Seq = "civil", "civil-person", 7
		if got := r.Concerns(tt.m); got != tt.want {
			t.Errorf("%s: Concerns = %v; want %v", tt.name, got, tt.want)
		}
		deliveries, decisions := r.Route(tt.m)
		if decided := len(deliveries)+len(decisions) > 0; decided != r.Concerns(tt.m) {
			t.Errorf("%s: Route decided %d, delivered %d; Concerns = %v", tt.name, len(decisions), len(deliveries), r.Concerns(tt.m))
		}
	}
}
