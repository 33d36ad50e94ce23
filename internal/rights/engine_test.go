package rights_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/rights"
	"github.com/crossroads-hub/crossroads/internal/rights/rightstest"
)

var today = date.Of(2026, 12, 7)

// nation is a FactSource over facts held in memory (the registers' own reading is
// tested in internal/rightsfacts).
type nation struct {
	facts   map[string]rights.Facts
	refused map[string]error
}

func (n *nation) Read(ctx context.Context, cat *rights.Catalogue, persons []string, day date.Date) (rights.Batch, error) {
	var out []rights.Facts
	for _, p := range persons {
		if f, ok := n.facts[p]; ok {
			f.Person, f.Day = p, day
			out = append(out, f)
		}
	}
	return rights.Batch{Facts: out, Refused: n.refused}, nil
}

func (n *nation) Each(ctx context.Context, cat *rights.Catalogue, after string, day date.Date, fn func(rights.Batch) error) error {
	var ps []string
	for p := range n.facts {
		if p > after {
			ps = append(ps, p)
		}
	}
	slices.Sort(ps)
	for chunk := range slices.Chunk(ps, 7) {
		b, _ := n.Read(ctx, cat, chunk, day)
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

func newEngine(t *testing.T, n *nation, cat *rights.Catalogue) (*rights.Engine, *rightstest.Memory) {
	store := &rightstest.Memory{}
	e := rights.NewEngine(cat, store, n)
	e.Now = func() time.Time { return today.Time().Add(10 * time.Hour) }
	return e, store
}

func pensioner(income int) rights.Facts {
	return rights.Facts{Age: 70, Alive: true, Resident: true, IncomePerUnit: income, Region: "R01", HouseholdSize: 1, BirthDate: date.Of(1956, 5, 1)}
}

// state is the rights each person holds, as the store has them.
func state(t *testing.T, s rights.Store, persons []string) string {
	cur, err := s.Current(context.Background(), persons)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, d := range cur {
		if d.Holds() {
			fmt.Fprintf(&b, "%s:%s ", d.Person, d.Right)
		}
	}
	return b.String()
}

func TestEngineStoresOnlyChanges(t *testing.T) {
	ctx := context.Background()
	a, b := rightstest.Person(1), rightstest.Person(2)
	n := &nation{facts: map[string]rights.Facts{a: pensioner(1000), b: pensioner(5000)}}
	e, store := newEngine(t, n, rights.DemoCatalogue())
	res, err := e.Nation(ctx, "recompute", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Persons != 2 || res.Changed != 5 {
		t.Fatalf("first run = %+v; want 2 persons, 5 grants (a's five rights)", res)
	}
	res, _ = e.Nation(ctx, "recompute", nil)
	if res.Changed != 0 {
		t.Fatalf("second run changed %d decisions; want none", res.Changed)
	}
	n.facts[a] = pensioner(2000) // a's income rose
	if res, _ = e.Persons(ctx, []string{a}); res.Changed != 5 {
		t.Fatalf("after the income rose, %d decisions changed; want 5 ended", res.Changed)
	}
	h, _ := store.History(ctx, a)
	if len(h) != 10 || h[9].Result != rights.Ended {
		t.Fatalf("history of a: %d decisions, last %+v; want 10, the last ended", len(h), h[len(h)-1])
	}
	var ir rights.Decision
	for _, d := range h {
		if d.Right == "income-guarantee-elderly" && d.Result == rights.Granted {
			ir = d
		}
	}
	want := []rights.Fact{{Name: "alive", Value: "true", Source: rights.SourceCivil, Date: today},
		{Name: "age", Value: "70", Source: rights.SourceCivil, Date: date.Of(1956, 5, 1)},
		{Name: "income_per_unit", Value: "1000", Source: rights.SourceSocial, Date: today}}
	if !slices.Equal(ir.Facts, want) || ir.Version != 1 || ir.Effective != today || ir.Institution != "PENSION-FUND" {
		t.Errorf("grant = %+v; want the facts %+v with their sources and dates", ir, want)
	}
	if state(t, store, []string{a, b}) != "" {
		t.Errorf("holders after the change: %s; want none", state(t, store, []string{a, b}))
	}
}

func TestRunTimeFailureKeepsPreviousDecision(t *testing.T) {
	ctx := context.Background()
	rule := rights.Rule{ID: "fragile", Version: 1, Kind: rights.KindStatute, Title: "Fragile", Author: "A", LegalReference: "L",
		ValidFrom: date.Of(2020, 1, 1), Institution: "X", Reads: []string{"household_size"},
		Expr:     "[true, false][household_size]",
		Examples: []rights.Example{{Name: "alone", Facts: []byte(`{"household_size": 0}`), Want: true}}}
	cat, err := rights.NewCatalogue([]rights.Rule{rule})
	if err != nil {
		t.Fatal(err)
	}
	a, b := rightstest.Person(1), rightstest.Person(2)
	n := &nation{facts: map[string]rights.Facts{a: {HouseholdSize: 0}, b: {HouseholdSize: 0}}}
	e, store := newEngine(t, n, cat)
	var told []rights.Failure
	e.Failed = func(f rights.Failure) { told = append(told, f) }
	if _, err := e.Nation(ctx, "recompute", nil); err != nil {
		t.Fatal(err)
	}
	n.facts[a] = rights.Facts{HouseholdSize: 5} // out of range: the rule fails for a
	n.facts[b] = rights.Facts{HouseholdSize: 1} // b no longer meets it
	res, err := e.Nation(ctx, "recompute", nil)
	if err != nil {
		t.Fatalf("the run stopped: %v", err)
	}
	if res.Failed != 1 || len(told) != 1 || told[0].Person != a || told[0].Right != "fragile" || !strings.Contains(told[0].Reason, "out of range") {
		t.Fatalf("failures = %+v, told %+v; want a's one failure reported with its reason", res, told)
	}
	if got := state(t, store, []string{a, b}); got != a+":fragile " {
		t.Errorf("holders = %q; want a's grant kept, b's ended", got)
	}
}

func TestRefusedReadsDecideNothing(t *testing.T) {
	ctx := context.Background()
	a := rightstest.Person(1)
	n := &nation{facts: map[string]rights.Facts{a: pensioner(1000)}, refused: map[string]error{"income-guarantee-elderly": fmt.Errorf("no authorization")}}
	e, store := newEngine(t, n, rights.DemoCatalogue())
	res, _ := e.Nation(ctx, "recompute", nil)
	got := state(t, store, []string{a})
	// The energy tariff and the waste collection use the income guarantee: undecided too.
	if want := a + ":increased-reimbursement " + a + ":transport-reduction "; got != want || res.Failed != 3 {
		t.Errorf("holders = %q, %d failures; want %q: neither the refused rule nor the rights that use it decided", got, res.Failed, want)
	}
}

func TestNationResumes(t *testing.T) {
	ctx := context.Background()
	n := &nation{facts: map[string]rights.Facts{}}
	var ps []string
	for i := range 30 {
		ps = append(ps, rightstest.Person(i))
		n.facts[ps[i]] = pensioner(1000)
	}
	slices.Sort(ps)
	e, store := newEngine(t, n, rights.DemoCatalogue())
	store.SetProgress(ctx, "recompute", ps[20]) // a run stopped after the 21st person
	res, err := e.Nation(ctx, "recompute", nil)
	if err != nil || res.Persons != 9 {
		t.Fatalf("resumed run = %+v, %v; want the 9 persons after the last done", res, err)
	}
	if last, _ := store.Progress(ctx, "recompute"); last != "" {
		t.Errorf("a finished run left progress %q", last)
	}
}

// genFacts draws facts a person may have.
func genFacts(t *rapid.T, label string) rights.Facts {
	return rights.Facts{
		Age: rapid.IntRange(0, 100).Draw(t, label+"age"), Alive: rapid.Bool().Draw(t, label+"alive"), Resident: true,
		IncomePerUnit: rapid.IntRange(0, 3000).Draw(t, label+"ipu"), Income: rapid.IntRange(0, 3000).Draw(t, label+"income"),
		Disabled: rapid.Bool().Draw(t, label+"disabled"), Employed: rapid.Bool().Draw(t, label+"employed"),
		DisabledChild: rapid.Bool().Draw(t, label+"dchild"), HouseholdSize: 1,
	}
}

func TestSameFactsSameDecision(t *testing.T) {
	cat := rights.DemoCatalogue()
	rapid.Check(t, func(t *rapid.T) {
		f := genFacts(t, "")
		f.Day = today
		g := f
		h1, _ := cat.Evaluate(&f)
		h2, _ := cat.Evaluate(&g)
		if !slices.Equal(h1, h2) {
			t.Fatalf("Evaluate(%+v) = %v then %v", f, h1, h2)
		}
		// The engine stores the same decisions for the same facts, from any prior state.
		ctx := context.Background()
		p := rightstest.Person(7)
		fresh, _ := newEngine(nil, &nation{facts: map[string]rights.Facts{p: f}}, cat)
		fresh.Persons(ctx, []string{p})
		other := &nation{facts: map[string]rights.Facts{p: genFacts(t, "before-")}}
		moved, s2 := newEngine(nil, other, cat)
		moved.Persons(ctx, []string{p})
		other.facts[p] = f
		moved.Persons(ctx, []string{p})
		if a, b := state(nil, fresh.Store, []string{p}), state(nil, s2, []string{p}); a != b {
			t.Fatalf("fresh = %q, after another state = %q", a, b)
		}
	})
}

func TestMutationOrderDoesNotMatter(t *testing.T) {
	cat := rights.DemoCatalogue()
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		const persons = 6
		var ps []string
		start := map[string]rights.Facts{}
		for i := range persons {
			ps = append(ps, rightstest.Person(i))
			start[ps[i]] = genFacts(t, fmt.Sprintf("p%d-", i))
		}
		type mutation struct {
			person int
			facts  rights.Facts
		}
		// At most one mutation a person, so that every order ends in the same facts.
		var ms []mutation
		for i := range persons {
			if rapid.Bool().Draw(t, fmt.Sprintf("m%d", i)) {
				ms = append(ms, mutation{i, genFacts(t, fmt.Sprintf("m%d-", i))})
			}
		}
		order := rapid.Permutation(ms).Draw(t, "order")
		run := func(ms []mutation) string {
			n := &nation{facts: map[string]rights.Facts{}}
			for k, v := range start {
				n.facts[k] = v
			}
			e, s := newEngine(nil, n, cat)
			e.Nation(ctx, "recompute", nil)
			for _, m := range ms {
				n.facts[ps[m.person]] = m.facts
				e.Persons(ctx, []string{ps[m.person]})
			}
			return state(nil, s, ps)
		}
		if a, b := run(ms), run(order); a != b {
			t.Fatalf("in order: %s\npermuted: %s", a, b)
		}
	})
}
