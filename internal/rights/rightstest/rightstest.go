// Package rightstest is the contract suite every rights.Store must pass.
package rightstest

import (
	"context"
	"fmt"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/rights"
)

// Run runs the suite; open returns a new, empty store for each test.
func Run(t *testing.T, open func(t *testing.T) rights.Store) {
	t.Run("SaveAndCurrent", func(t *testing.T) { testSaveAndCurrent(t, open(t)) })
	t.Run("AllOrNone", func(t *testing.T) { testAllOrNone(t, open(t)) })
	t.Run("Progress", func(t *testing.T) { testProgress(t, open(t)) })
	t.Run("Counts", func(t *testing.T) { testCounts(t, open(t)) })
}

// Person returns the i-th test person number.
func Person(i int) string {
	p, err := ident.MakePerson(1950+i%50, 1+i%12, 1+i%28, 1+2*(i/1400), ident.Register)
	if err != nil {
		panic(err)
	}
	return p.String()
}

func decision(person, right, result string, version int) rights.Decision {
	return rights.Decision{Person: person, Right: right, Version: version, Result: result, Effective: date.Of(2026, 12, 7),
		Decided: 1_765_000_000, Institution: "SOCIAL-REGISTRY",
		Facts: []rights.Fact{{Name: "age", Value: "70", Source: rights.SourceCivil, Date: date.Of(1956, 3, 4)}},
		Group: rights.Group{Region: "R01", AgeBand: "65-79", HouseholdType: "single"}}
}

func testSaveAndCurrent(t *testing.T, s rights.Store) {
	ctx := context.Background()
	a, b := Person(1), Person(2)
	first := []rights.Decision{decision(a, "energy", rights.Granted, 1), decision(a, "transport", rights.Granted, 1), decision(b, "energy", rights.Granted, 1)}
	if err := s.Save(ctx, first, rights.Mark{}); err != nil {
		t.Fatalf("Save: %v", err)
	}
	for _, d := range first {
		if d.ID == 0 {
			t.Fatalf("Save left a decision without id")
		}
	}
	if err := s.Save(ctx, []rights.Decision{decision(a, "energy", rights.Ended, 2)}, rights.Mark{Job: "recompute", Last: a}); err != nil {
		t.Fatalf("Save: %v", err)
	}
	cur, err := s.Current(ctx, []string{b, a, Person(3)})
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	got := ""
	for _, d := range cur {
		got += fmt.Sprintf("%s/%s/%s/%d ", d.Person[:3], d.Right, d.Result, d.Version)
	}
	want := fmt.Sprintf("%s/energy/ended/2 %s/transport/granted/1 %s/energy/granted/1 ", a[:3], a[:3], b[:3])
	if a > b {
		want = fmt.Sprintf("%s/energy/granted/1 %s/energy/ended/2 %s/transport/granted/1 ", b[:3], a[:3], a[:3])
	}
	if got != want {
		t.Errorf("Current = %s; want %s", got, want)
	}
	lo, hi := min(a, b), max(a, b)
	var holds []rights.Held // what Current says is held, in its order
	for _, d := range cur {
		if d.Holds() {
			holds = append(holds, rights.Held{Person: d.Person, Right: d.Right})
		}
	}
	between, err := s.HeldBetween(ctx, lo, hi)
	if err != nil || fmt.Sprint(between) != fmt.Sprint(holds) {
		t.Errorf("HeldBetween(%s, %s) = %v, %v; want %v", lo, hi, between, err, holds)
	}
	// a ended its energy right: a range of a alone holds transport only.
	if only, err := s.HeldBetween(ctx, a, a); err != nil || fmt.Sprint(only) != fmt.Sprint([]rights.Held{{Person: a, Right: "transport"}}) {
		t.Errorf("HeldBetween(%s, %s) = %v, %v; want %s's transport only", a, a, only, err, a)
	}
	if none, err := s.HeldBetween(ctx, Person(3), Person(3)); err != nil || len(none) != 0 {
		t.Errorf("HeldBetween of a person without decisions = %v, %v; want none", none, err)
	}
	if last, _ := s.Progress(ctx, "recompute"); last != a {
		t.Errorf("progress saved with the decisions = %q; want %q", last, a)
	}
	h, err := s.History(ctx, a)
	if err != nil || len(h) != 3 {
		t.Fatalf("History = %d decisions, %v; want 3", len(h), err)
	}
	if h[0].Right != "energy" || h[2].Result != rights.Ended || len(h[0].Facts) != 1 || h[0].Facts[0] != first[0].Facts[0] {
		t.Errorf("History = %+v; want the decisions in order, with their facts", h)
	}
	if h[0].Group != first[0].Group || h[0].Effective != first[0].Effective || h[0].Institution != "SOCIAL-REGISTRY" {
		t.Errorf("History[0] = %+v; want %+v", h[0], first[0])
	}
	many := make([]string, rights.MaxPersons+1)
	for i := range many {
		many[i] = Person(i)
	}
	if _, err := s.Current(ctx, many); err == nil {
		t.Errorf("Current of %d persons succeeded; want a refusal", len(many))
	}
}

func testAllOrNone(t *testing.T, s rights.Store) {
	ctx := context.Background()
	var ds []rights.Decision
	for i := range 450 {
		ds = append(ds, decision(Person(i), "energy", rights.Granted, 1))
	}
	ds = append(ds, decision("not-a-person", "energy", rights.Granted, 1))
	if err := s.Save(ctx, ds, rights.Mark{Job: "recompute", Last: Person(9)}); err == nil {
		t.Fatalf("Save with a bad person number succeeded")
	}
	cur, err := s.Current(ctx, []string{Person(0), Person(449)})
	if err != nil || len(cur) != 0 {
		t.Errorf("after a failed Save, Current = %v, %v; want nothing written", cur, err)
	}
	if last, _ := s.Progress(ctx, "recompute"); last != "" {
		t.Errorf("after a failed Save, progress = %q; want none", last)
	}
}

func testProgress(t *testing.T, s rights.Store) {
	ctx := context.Background()
	if last, err := s.Progress(ctx, "recompute"); err != nil || last != "" {
		t.Fatalf("Progress = %q, %v; want none", last, err)
	}
	for _, p := range []string{Person(1), Person(2)} {
		if err := s.SetProgress(ctx, "recompute", p); err != nil {
			t.Fatalf("SetProgress: %v", err)
		}
	}
	if last, _ := s.Progress(ctx, "recompute"); last != Person(2) {
		t.Errorf("Progress = %q; want %q", last, Person(2))
	}
	if last, _ := s.Progress(ctx, "other"); last != "" {
		t.Errorf("Progress of another job = %q; want none", last)
	}
	s.SetProgress(ctx, "recompute", "")
	if last, _ := s.Progress(ctx, "recompute"); last != "" {
		t.Errorf("Progress after forgetting = %q; want none", last)
	}
}

func testCounts(t *testing.T, s rights.Store) {
	ctx := context.Background()
	var ds []rights.Decision
	for i := range 12 {
		ds = append(ds, decision(Person(i), "energy", rights.Granted, 1))
	}
	if err := s.Save(ctx, ds, rights.Mark{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, []rights.Decision{decision(Person(0), "energy", rights.Ended, 1)}, rights.Mark{}); err != nil {
		t.Fatal(err)
	}
	cs, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Persons != 11 || cs[0].Right != "energy" || cs[0].Region != "R01" {
		t.Errorf("Counts = %+v; want 11 holders of energy in R01 (one ended)", cs)
	}
}
