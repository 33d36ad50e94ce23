package sqlstore_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// TestPersonDocs: many persons in one read, the documents decoding to the persons
// stored, the numbers the register does not hold left out, and a read of more than
// population.MaxMany refused.
func TestPersonDocs(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st := b.open(t, sqlstore.Civil).Population()
			many, ok := st.(population.Many)
			if !ok {
				t.Fatalf("%T does not read many persons at once", st)
			}
			var ps []population.Person
			var numbers []string
			for i := range 1200 {
				n, err := ident.MakePerson(1950+i%50, 1+i%12, 1+i%28, i/50*2+1, ident.Register)
				if err != nil {
					t.Fatal(err)
				}
				p := population.Person{Number: n.String(), GivenName: "N" + n.String()[:4], BirthDate: date.Of(1950+i%50, 1+i%12, 1+i%28),
					Address: population.Address{Street: "S", Municipality: "M1"}}
				if i%3 == 0 {
					ps = append(ps, p) // a third of the numbers are in the register
				}
				numbers = append(numbers, p.Number)
			}
			if err := st.PutPersons(ctx, ps); err != nil {
				t.Fatal(err)
			}
			var got []population.Person
			err := many.PersonDocs(ctx, numbers[:population.MaxMany], func(doc []byte) error {
				var p population.Person
				if err := population.DecodePerson(doc, &p); err != nil {
					return err
				}
				got = append(got, p)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := slices.DeleteFunc(slices.Clone(ps), func(p population.Person) bool { return !slices.Contains(numbers[:population.MaxMany], p.Number) })
			slices.SortFunc(got, func(a, b population.Person) int { return strings.Compare(a.Number, b.Number) })
			slices.SortFunc(want, func(a, b population.Person) int { return strings.Compare(a.Number, b.Number) })
			if !reflect.DeepEqual(got, want) {
				t.Errorf("PersonDocs gave %d persons; want the %d stored among the numbers asked", len(got), len(want))
			}
			if err := many.PersonDocs(ctx, numbers, func([]byte) error { return nil }); err == nil {
				t.Errorf("PersonDocs of %d numbers succeeded; want at most %d", len(numbers), population.MaxMany)
			}
			if err := many.PersonDocs(ctx, []string{"not-a-number"}, func([]byte) error { return nil }); err == nil {
				t.Error("PersonDocs of a bad number succeeded")
			}
		})
	}
}
