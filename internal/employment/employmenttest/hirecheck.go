package employmenttest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// testHireInTransaction: the store alone refuses a hire of a worker already working for
// the employer (the source reads nothing before), before the register's verdict on the
// person, and leaves nothing of it; an accepted hire counts the change on the person's
// record without disturbing what the register finds the person by.
func testHireInTransaction(t *testing.T, st Stores) {
	ctx := context.Background()
	src := setup(t, st, 9)
	house := population.Person{Number: Person(30), GivenName: "H", FamilyName: "Home", Sex: "female", BirthDate: date.Of(1990, 1, 1),
		Household: "HH-30", Address: population.Address{Municipality: "M-30"}}
	if err := st.Population.PutPersons(ctx, []population.Person{house}); err != nil {
		t.Fatal(err)
	}
	p := Person(1)
	first, err := src.Declare(ctx, PayrollInst, hire(p, Acme, date.Of(2026, 8, 1)))
	if err != nil {
		t.Fatalf("hire: %v", err)
	}
	// The same hire again, and one starting later while the first is open: refused by
	// the store, nothing written (no relation, no event, no change counted).
	for _, start := range []date.Date{date.Of(2026, 8, 1), date.Of(2026, 10, 1)} {
		_, err := src.Declare(ctx, AcmeInst, hire(p, Acme, start))
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Kind != fault.Conflict || fe.Field != "person" || !strings.Contains(fe.Msg, "already works for") {
			t.Errorf("a second hire starting %s: %v; want a conflict on person, already working there", start, err)
		}
	}
	rels, err := st.Employment.Relations(ctx, p)
	if err != nil || len(rels) != 1 || rels[0].ID != first.Relation {
		t.Errorf("relations after the refused hires = %+v, %v; want the first only", rels, err)
	}
	evs, err := st.Population.Events(ctx, p)
	if err != nil || len(evs) != 1 {
		t.Errorf("events after the refused hires = %d, %v; want 1", len(evs), err)
	}
	if per, _ := st.Population.Person(ctx, p); per.RegistryChanges != 1 {
		t.Errorf("registry changes after the refused hires = %d; want 1", per.RegistryChanges)
	}
	// A deceased worker with an open relation: the employer hears that the worker
	// already works for it (the relation is checked first), as before the register.
	if err := st.Employment.PutRelations(ctx, []employment.Relation{{Person: Person(9), Employer: Acme, Start: date.Of(2020, 1, 1),
		End: date.Max, Contract: "permanent", Fraction: 1, Sector: "200", Status: employment.Active}}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Declare(ctx, AcmeInst, hire(Person(9), Acme, date.Of(2026, 8, 1))); fault.KindOf(err) != fault.Conflict ||
		!strings.Contains(err.Error(), "already works for") {
		t.Errorf("a hire of a deceased worker with an open relation: %v; want the conflict of the open relation", err)
	}
	// A hire of a person with a household and a municipality: the record counts the
	// change, and the register still finds the person by them.
	if _, err := src.Declare(ctx, PayrollInst, hire(house.Number, Acme, date.Of(2026, 8, 1))); err != nil {
		t.Fatalf("hire of %s: %v", house.Number, err)
	}
	got, err := st.Population.Person(ctx, house.Number)
	if err != nil || got.RegistryChanges != 1 || got.Household != "HH-30" || got.Address.Municipality != "M-30" {
		t.Errorf("person after the hire = %+v, %v; want the change counted, household and municipality kept", got, err)
	}
	if s, ok := st.Population.(population.Searcher); ok {
		for _, c := range []query.Cond{{Op: query.Eq, Attr: "household", Value: "HH-30"}, {Op: query.Eq, Attr: "address.municipality", Value: "M-30"}} {
			found, n, err := s.Search(ctx, query.Query{Kind: query.KindFilter, Filter: &c, Page: 1, PageSize: 10})
			if err != nil || n != 1 || len(found) != 1 || found[0].Number != house.Number || found[0].RegistryChanges != 1 {
				t.Errorf("search %s = %s after the hire: %+v (%d), %v; want the person, the change counted", c.Attr, c.Value, found, n, err)
			}
		}
	}
}
