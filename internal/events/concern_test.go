package events

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// countingStore counts the households read for the records of registry changes.
type countingStore struct {
	population.Store
	households atomic.Int64
}

func (s *countingStore) Household(ctx context.Context, id string, limit int) ([]population.Person, error) {
	s.households.Add(1)
	return s.Store.(interface {
		Household(context.Context, string, int) ([]population.Person, error)
	}).Household(ctx, id, limit)
}

// TestUnconcernedNotDerived: a registry change that no institution with a file on the
// person takes is routed to nobody without its record being derived (no household
// read); one that an institution takes is derived and pushed, with its household.
func TestUnconcernedNotDerived(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "civil.db"), sqlstore.Civil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := &countingStore{Store: db.Population()}
	var ps []population.Person
	for k := range 3 {
		num, err := ident.MakePerson(1970, 3, 1, k+1, ident.Register)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, population.Person{Number: num.String(), GivenName: "P", FamilyName: "Lee", Sex: "female",
			BirthDate: date.Of(1970, 3, 1), Household: "H1", Address: population.Address{Municipality: "M1"}})
	}
	if err := db.Population().PutPersons(ctx, ps); err != nil {
		t.Fatal(err)
	}
	social := &derived.Source{Kind: derived.Social, Store: store, Searcher: db.Searcher()}
	watched, other := ps[0].Number, ps[1].Number
	income := 1200
	for _, p := range []string{other, watched} {
		if _, err := social.RecordChange(ctx, derived.Change{Type: derived.EventIncome, Person: p, Date: date.Of(2029, 1, 1),
			Facts: derived.Facts{MonthlyIncome: &income}}, date.Of(2030, 1, 1)); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := db.Population().EventsAfter(ctx, 0, 10)
	if err != nil || len(evs) != 2 {
		t.Fatalf("events %d, %v; want 2", len(evs), err)
	}
	r, b := routeTo(store, social, watched) // files on watched only
	for i, want := range []struct {
		households int64
		copies     int
	}{{0, 0}, {1, 1}} {
		store.households.Store(0)
		published := len(b.published)
		if done, err := r.all(ctx, [][]byte{mutationMsgs(evs[i : i+1])[0].Data}); done != 1 || err != nil {
			t.Fatalf("route the income of %s: %d, %v", evs[i].Person, done, err)
		}
		if got, copies := store.households.Load(), len(b.published)-published; got != want.households || copies != want.copies {
			t.Errorf("the income of %s: %d households read, %d copies; want %d, %d", evs[i].Person, got, copies, want.households, want.copies)
		}
	}
}
