// Package populationtest is the contract suite of population.Store and of the ledger
// kept beside it: every implementation runs it from its own tests.
package populationtest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// Run runs the suite; newStore returns an empty store for each subtest. When the store
// is also an ident.Ledger, the suite checks that registered persons' numbers count as issued.
func Run(t *testing.T, newStore func(t *testing.T) population.Store) {
	t.Run("persons", func(t *testing.T) { runPersons(t, newStore) })
	t.Run("list", func(t *testing.T) { runList(t, newStore) })
	t.Run("events", func(t *testing.T) { runEvents(t, newStore) })
	t.Run("record", func(t *testing.T) { runRecord(t, newStore) })
	t.Run("places", func(t *testing.T) { runPlaces(t, newStore) })
	t.Run("ledger of persons", func(t *testing.T) { runPersonLedger(t, newStore) })
}

func number(y, m, d, seq int) string {
	p, err := ident.MakePerson(y, m, d, seq, ident.Register)
	if err != nil {
		panic(err)
	}
	return p.String()
}

// sample returns person i of a small register: every third lives in M2, every fifth has died.
func sample(i int) population.Person {
	p := population.Person{
		Number:        number(1950+i%60, 1+i%12, 1+i%28, 1+i),
		BRN:           fmt.Sprintf("BRN-%06d", i),
		GivenName:     fmt.Sprintf("Given%d", i),
		FamilyName:    "Family",
		Sex:           []string{"male", "female"}[i%2],
		BirthDate:     date.Of(1950+i%60, 1+i%12, 1+i%28),
		BirthPlace:    "M1",
		Address:       population.Address{Street: "Main Street", HouseNumber: fmt.Sprint(i), PostalCode: "1000", Municipality: "M1", Region: "R1"},
		MaritalStatus: population.Single,
		Nationality:   "BEL",
		Household:     fmt.Sprintf("H%d", i/2),
	}
	if i%3 == 0 {
		p.Address.Municipality = "M2"
	}
	if i%5 == 4 {
		p.DeathDate = date.Of(2020, 1, 1)
	}
	return p
}

func samples(n int) []population.Person {
	out := make([]population.Person, n)
	for i := range out {
		out[i] = sample(i)
	}
	return out
}

func wantKind(t *testing.T, what string, err error, want fault.Kind) {
	t.Helper()
	if err == nil || fault.KindOf(err) != want {
		t.Fatalf("%s: error %v; want kind %v", what, err, want)
	}
}

func samePerson(a, b population.Person) bool { return reflect.DeepEqual(a, b) }

func sameJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

func mustPut(t *testing.T, s population.Store, ps ...population.Person) {
	t.Helper()
	if err := s.PutPersons(context.Background(), ps); err != nil {
		t.Fatalf("PutPersons: %v", err)
	}
}
