// Package employmenttest is the contract suite every employment.Store must pass, run
// through employment.Source: immediate declarations with their history and events, and
// the ingest of quarterly files.
package employmenttest

import (
	"context"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// Stores are a fresh employment store and the civil register beside it (one database).
type Stores struct {
	Employment employment.Store
	Population population.Store
}

// Today is the suite's clock: declarations are received on this day.
var Today = time.Date(2026, 7, 15, 9, 0, 0, 0, time.UTC)

// Employers of the suite: Acme mandated the payroll office, Other did not.
var (
	Acme  = enterprise(300000)
	Other = enterprise(300001)
)

const (
	AcmeInst    = "E-ACME"
	OtherInst   = "E-OTHER"
	PayrollInst = "PAYROLL-1"
)

func enterprise(base int) string {
	n, err := ident.MakeEnterprise(base)
	if err != nil {
		panic(err)
	}
	return n.String()
}

// Person makes the person number of seq, born on 1990-01-01.
func Person(seq int) string {
	p, err := ident.MakePerson(1990, 1, 1, seq, ident.Register)
	if err != nil {
		panic(err)
	}
	return p.String()
}

// Mandates of the suite: an employer declares for itself, PAYROLL-1 for Acme only.
func Mandates(_ context.Context, inst, employer string) error {
	switch {
	case inst == AcmeInst && employer == Acme, inst == OtherInst && employer == Other, inst == PayrollInst && employer == Acme:
		return nil
	}
	return fault.Forbiddenf("%s has no mandate of %s", inst, employer)
}

// Run runs the suite; open returns fresh, empty stores.
func Run(t *testing.T, open func(t *testing.T) Stores) {
	t.Run("declarations", func(t *testing.T) { testDeclarations(t, open(t)) })
	t.Run("refusals", func(t *testing.T) { testRefusals(t, open(t)) })
	t.Run("quarter", func(t *testing.T) { testQuarter(t, open(t)) })
	t.Run("incomes", func(t *testing.T) { testIncomes(t, open(t)) })
	t.Run("incomesasleft", func(t *testing.T) { testIncomesAsLeft(t, open(t)) })
	t.Run("badfiles", func(t *testing.T) { testBadFiles(t, open(t)) })
	t.Run("asof", func(t *testing.T) { testAsOf(t, open(t)) })
	t.Run("badlines", func(t *testing.T) { testBadLines(t, open(t)) })
	t.Run("streamed", func(t *testing.T) { testStreamed(t, open(t)) })
	t.Run("riskonce", func(t *testing.T) { testRiskOnce(t, open(t)) })
	t.Run("oracle", func(t *testing.T) { testNoOracle(t, open(t)) })
	t.Run("concurrent", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("hireintx", func(t *testing.T) { testHireInTransaction(t, open(t)) })
}

// setup puts persons 1..n in the register (person 9 died) and returns the source.
func setup(t *testing.T, st Stores, n int) *employment.Source {
	t.Helper()
	var ps []population.Person
	for i := 1; i <= n; i++ {
		p := population.Person{Number: Person(i), GivenName: "W", FamilyName: "Worker", Sex: "male", BirthDate: date.Of(1990, 1, 1)}
		if i == 9 {
			p.DeathDate = date.Of(2026, 1, 2)
		}
		ps = append(ps, p)
	}
	if err := st.Population.PutPersons(context.Background(), ps); err != nil {
		t.Fatalf("PutPersons: %v", err)
	}
	return &employment.Source{Store: st.Employment, Mandates: Mandates, Now: func() time.Time { return Today }}
}

func hire(person, employer string, start date.Date) employment.Declaration {
	return employment.Declaration{Kind: employment.Hire, Person: person, Employer: employer, Start: start,
		Contract: "permanent", Fraction: 1, Sector: "200"}
}

func testDeclarations(t *testing.T, st Stores) {
	ctx := context.Background()
	src := setup(t, st, 3)
	p := Person(1)
	d, err := src.Declare(ctx, PayrollInst, hire(p, Acme, date.Of(2026, 8, 1)))
	if err != nil {
		t.Fatalf("hire: %v", err)
	}
	if d.ID == 0 || d.Relation == 0 || d.Event == 0 || d.Late || d.DeclaredBy != PayrollInst {
		t.Fatalf("hire = %+v; want ids, an event, not late, declared by %s", d, PayrollInst)
	}
	evs, err := st.Population.Events(ctx, p)
	if err != nil || len(evs) != 1 || evs[0].Type != employment.EventStart || evs[0].Date != date.Of(2026, 8, 1) || evs[0].Seq != d.Event {
		t.Fatalf("events after hire = %+v, %v; want one employment_start on 2026-08-01", evs, err)
	}
	if got := string(evs[0].Data); got != `{"employer":"`+Acme+`"}` {
		t.Errorf("event data = %s", got)
	}
	if per, _ := st.Population.Person(ctx, p); per.RegistryChanges != 1 {
		t.Errorf("registry changes = %d; want 1", per.RegistryChanges)
	}
	if _, err := src.Declare(ctx, AcmeInst, hire(p, Acme, date.Of(2026, 9, 1))); fault.KindOf(err) != fault.Conflict {
		t.Errorf("second hire by the same employer: %v; want a conflict", err)
	}
	late, err := src.Declare(ctx, OtherInst, hire(p, Other, date.Of(2026, 7, 1)))
	if err != nil || !late.Late {
		t.Fatalf("hire after the start = %+v, %v; want accepted, late", late, err)
	}
	corr, err := src.Declare(ctx, AcmeInst, employment.Declaration{Kind: employment.Correct, Relation: d.Relation, Fraction: 0.5})
	if err != nil || corr.Event != 0 {
		t.Fatalf("correct = %+v, %v; want accepted without an event", corr, err)
	}
	exit, err := src.Declare(ctx, AcmeInst, employment.Declaration{Kind: employment.Exit, Relation: d.Relation, End: date.Of(2026, 12, 31)})
	if err != nil || exit.Event == 0 {
		t.Fatalf("exit = %+v, %v", exit, err)
	}
	if _, err := src.Declare(ctx, AcmeInst, employment.Declaration{Kind: employment.Exit, Relation: d.Relation, End: date.Of(2027, 1, 31)}); fault.KindOf(err) != fault.Conflict {
		t.Errorf("second exit: %v; want a conflict", err)
	}
	rel, err := st.Employment.Relation(ctx, d.Relation)
	if err != nil || rel.End != date.Of(2026, 12, 31) || rel.Fraction != 0.5 || rel.Version != 3 || rel.Status != employment.Active {
		t.Fatalf("relation = %+v, %v; want ended 2026-12-31, fraction 0.5, version 3", rel, err)
	}
	if _, err := src.Declare(ctx, OtherInst, employment.Declaration{Kind: employment.Cancel, Relation: late.Relation}); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	decls, err := st.Employment.Declarations(ctx, p)
	if err != nil || len(decls) != 5 {
		t.Fatalf("declarations = %d, %v; want 5 (the history)", len(decls), err)
	}
	evs, _ = st.Population.Events(ctx, p)
	var types []string
	for _, ev := range evs {
		types = append(types, ev.Type+" "+ev.Date.String())
	}
	want := []string{"employment_start 2026-08-01", "employment_start 2026-07-01", "employment_end 2027-01-01", "employment_end 2026-07-01"}
	if len(types) != len(want) {
		t.Fatalf("events = %v; want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("events = %v; want %v", types, want)
		}
	}
	rels, _ := st.Employment.Relations(ctx, p)
	if len(rels) != 2 || rels[0].Status != employment.Cancelled {
		t.Errorf("relations = %+v; want the cancelled one first", rels)
	}
}

func testRefusals(t *testing.T, st Stores) {
	ctx := context.Background()
	src := setup(t, st, 9)
	d, err := src.Declare(ctx, AcmeInst, hire(Person(2), Acme, date.Of(2026, 8, 1)))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, inst string
		d          employment.Declaration
		kind       fault.Kind
	}{
		{"unmandated payroll office", PayrollInst, hire(Person(1), Other, date.Of(2026, 8, 1)), fault.Forbidden},
		{"another employer", OtherInst, hire(Person(1), Acme, date.Of(2026, 8, 1)), fault.Forbidden},
		{"another employer's relation", OtherInst, employment.Declaration{Kind: employment.Exit, Relation: d.Relation, End: date.Of(2026, 9, 1)}, fault.Forbidden},
		{"a relation that does not exist", AcmeInst, employment.Declaration{Kind: employment.Exit, Relation: d.Relation + 100, End: date.Of(2026, 9, 1)}, fault.Forbidden},
		{"bad check digit", AcmeInst, hire(Person(1)[:10]+"0", Acme, date.Of(2026, 8, 1)), fault.Invalid},
		{"not in the register", AcmeInst, hire(Person(20), Acme, date.Of(2026, 8, 1)), fault.Invalid},
		{"deceased", AcmeInst, hire(Person(9), Acme, date.Of(2026, 8, 1)), fault.Invalid},
		{"fraction above 1", AcmeInst, func() employment.Declaration {
			h := hire(Person(1), Acme, date.Of(2026, 8, 1))
			h.Fraction = 1.5
			return h
		}(), fault.Invalid},
		{"unknown kind", AcmeInst, employment.Declaration{Kind: "fire"}, fault.Invalid},
		{"an exit naming another worker", AcmeInst, employment.Declaration{Kind: employment.Exit, Relation: d.Relation, Person: Person(3), End: date.Of(2026, 9, 1)}, fault.Invalid},
		{"a correction naming another worker", AcmeInst, employment.Declaration{Kind: employment.Correct, Relation: d.Relation, Person: Person(3), Sector: "300"}, fault.Invalid},
		{"exit before start", AcmeInst, employment.Declaration{Kind: employment.Exit, Relation: d.Relation, End: date.Of(2026, 7, 1)}, fault.Invalid},
	}
	for _, c := range cases {
		if c.d.Person == Person(1)[:10]+"0" && ident.ValidPerson(c.d.Person) {
			t.Fatalf("%s: %s is valid", c.name, c.d.Person)
		}
		if _, err := src.Declare(ctx, c.inst, c.d); fault.KindOf(err) != c.kind {
			t.Errorf("%s: Declare = %v; want %v", c.name, err, c.kind)
		}
	}
	for _, p := range []string{Person(1), Person(9), Person(20)} {
		if rels, _ := st.Employment.Relations(ctx, p); len(rels) != 0 {
			t.Errorf("%s: refused declarations left relations %+v", p, rels)
		}
	}
	if evs, _ := st.Population.Events(ctx, Person(1), Person(9)); len(evs) != 0 {
		t.Errorf("refused declarations left events %+v", evs)
	}
}
