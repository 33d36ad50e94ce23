package sqlstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// TestIncomesOfWorkersNotWritten: incomes of workers with no line written in the file
// (so not looked up beside the writer, on SQLite) are looked up at the commit, with the
// same outcome: an event for each worker the register holds, carrying the person with
// its registry change, none for a number the register lacks, 2,500 workers of each so
// that the look-ups run in several statements.
func TestIncomesOfWorkersNotWritten(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db := b.open(t, sqlstore.Civil, sqlstore.Employment)
			var ps []population.Person
			var incomes []employment.Income
			for i := range 5000 {
				n, err := ident.MakePerson(1960+i%40, 1+i%12, 1+i%28, 1+i/400*2, ident.Register)
				if err != nil {
					t.Fatal(err)
				}
				if i%2 == 0 { // every other number is in the register
					ps = append(ps, population.Person{Number: n.String(), BirthDate: date.Of(1960+i%40, 1+i%12, 1+i%28)})
				}
				k, _ := strconv.ParseInt(n.String(), 10, 64)
				incomes = append(incomes, employment.Income{Person: k, Monthly: 1000 + i})
			}
			if err := db.Population().PutPersons(ctx, ps); err != nil {
				t.Fatal(err)
			}
			f, err := db.Employment().StoreQuarter(ctx, employment.File{Hash: "h", Quarter: 20263, Received: time.Now()}, nil, incomes)
			if err != nil || f.Mutations != len(ps) {
				t.Fatalf("StoreQuarter = %d mutations, %v; want %d", f.Mutations, err, len(ps))
			}
			evs, err := db.Population().EventsAfter(ctx, 0, 10000)
			if err != nil || len(evs) != len(ps) {
				t.Fatalf("EventsAfter = %d events, %v; want %d", len(evs), err, len(ps))
			}
			in := map[string]bool{}
			for _, p := range ps {
				in[p.Number] = true
			}
			for _, ev := range evs {
				if !in[ev.Person] || ev.Type != employment.EventIncome || ev.After == nil || ev.After.RegistryChanges != 1 {
					t.Fatalf("event %d: %s of %s, person %+v; want an income of a person of the register with 1 registry change", ev.Seq, ev.Type, ev.Person, ev.After)
				}
			}
		})
	}
}
