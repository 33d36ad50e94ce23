package sqlstore_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/query"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// TestSearchAgreesWithEval: on a synthetic nation, every search returns exactly the
// persons the filter holds for, counted and paged as population.Page does, whether the
// database pages it (all of the filter on columns) or the filter is evaluated on
// candidates.
func TestSearchAgreesWithEval(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db := b.open(t, sqlstore.Hub, sqlstore.Civil)
			today := date.FromTime(time.Now())
			if _, err := synth.Generate(ctx, synth.Config{Seed: 3, Persons: 2000, Today: today}, db.Population(), directory.New(db.Directory(), nil)); err != nil {
				t.Fatal(err)
			}
			var all []population.Person
			for q := (population.Query{Limit: 1000}); ; {
				page, err := db.Population().Persons(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, page...)
				if len(page) < q.Limit {
					break
				}
				q.After = page[len(page)-1].Number
			}
			region := all[0].Address.Region
			muni := all[0].Address.Municipality
			and := func(cs ...*query.Cond) *query.Cond { return &query.Cond{Op: query.And, Args: cs} }
			c := func(attr, op string, v any) *query.Cond { return &query.Cond{Op: op, Attr: attr, Value: v} }
			filters := map[string]*query.Cond{
				"region and born before":     and(c("address.region", query.Eq, region), c("birth_date", query.Lt, "1960-01-01")),
				"region alone":               c("address.region", query.Eq, region),
				"municipality and born in":   and(c("address.municipality", query.Eq, muni), c("birth_date", query.Ge, "1980-01-01"), c("birth_date", query.Le, "1999-12-31")),
				"dead in a region":           and(c("address.region", query.Eq, region), c("death_date", query.Lt, today.String())),
				"region and sex (evaluated)": and(c("address.region", query.Eq, region), c("sex", query.Eq, "female")),
				"no such region":             and(c("address.region", query.Eq, "R99"), c("birth_date", query.Lt, "2000-01-01")),
				"either municipality":        c("address.municipality", query.In, []string{muni, "M9999"}),
			}
			for name, f := range filters {
				var want []string
				for i := range all {
					if f.Eval(func(a string) (string, bool) { return population.Attr(&all[i], a) }) {
						want = append(want, all[i].Number)
					}
				}
				slices.Sort(want)
				var got []string
				total := -1
				for page := 1; page < 1000; page++ {
					ps, n, err := db.Searcher().Search(ctx, query.Query{Kind: query.KindFilter, Filter: f, Page: page, PageSize: 7})
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					total = n
					for _, p := range ps {
						got = append(got, p.Number)
					}
					if len(ps) < 7 {
						break
					}
				}
				if total != len(want) || !slices.Equal(got, want) {
					t.Errorf("%s: total %d, %d persons; want %d (first difference in %v vs %v)", name, total, len(got), len(want), head(got), head(want))
				}
				// Within a scope (every third person), from either side: only the scope's.
				var scope sortedScope
				for i := 0; i < len(all); i += 3 {
					scope = append(scope, all[i].Number)
				}
				var inScope []string
				for _, n := range want {
					if scope.Contains(n) {
						inScope = append(inScope, n)
					}
				}
				for _, first := range []int{len(all), 0} { // the scope first whenever smaller; the candidates first
					restore := sqlstore.SetScopeFirst(first)
					var got []string
					var n int
					var err error
					for page := 1; page < 1000 && err == nil; page++ {
						var ps []population.Person
						ps, n, err = db.Searcher().Search(ctx, query.Query{Kind: query.KindFilter, Filter: f, Page: page, PageSize: 7, Scope: scope})
						for _, p := range ps {
							got = append(got, p.Number)
						}
						if len(ps) < 7 {
							break
						}
					}
					restore()
					if err != nil || n != len(inScope) || !slices.Equal(got, inScope) {
						t.Errorf("%s within a scope (scope first below %d): total %d, %d persons, %v; want %d", name, first, n, len(got), err, len(inScope))
					}
				}
			}
		})
	}
}

// sortedScope is a query.Scope over a sorted list of person numbers.
type sortedScope []string

func (s sortedScope) Len() int { return len(s) }

func (s sortedScope) Contains(p string) bool { _, ok := slices.BinarySearch(s, p); return ok }

func (s sortedScope) Persons(after string, limit int) []string {
	i, _ := slices.BinarySearch(s, after+"\x00")
	if after == "" {
		i = 0
	}
	return s[i:min(len(s), i+limit)]
}

func head(s []string) []string { return s[:min(len(s), 3)] }

// TestBulkLoadRebuildsIndexes: a bulk load drops the register's secondary indexes; one
// that stops before finishing leaves them to the next Open, which builds them; searches
// are answered either way.
func TestBulkLoadRebuildsIndexes(t *testing.T) {
	ctx := context.Background()
	path := "sqlite:" + filepath.Join(t.TempDir(), "civil.db")
	indexes := func(db *sqlstore.DB) []string {
		t.Helper()
		var out []string
		for _, n := range []string{"person_municipality", "person_household", "person_municipality_birth", "event_person", "person_brief"} {
			var found int
			if err := db.RawQueryRow(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, n).Scan(&found); err != nil {
				t.Fatal(err)
			}
			if found == 1 {
				out = append(out, n)
			}
		}
		return out
	}
	db, err := sqlstore.Open(ctx, path, sqlstore.Civil)
	if err != nil {
		t.Fatal(err)
	}
	bl, ok := db.Population().(interface {
		BulkLoad(context.Context) (func(context.Context) error, error)
	})
	if !ok {
		t.Fatal("the SQLite population store has no BulkLoad")
	}
	if _, err := bl.BulkLoad(ctx); err != nil {
		t.Fatal(err)
	}
	if got := indexes(db); len(got) != 0 {
		t.Errorf("during the load: indexes %v; want none", got)
	}
	db.Close() // the load stops here
	db, err = sqlstore.Open(ctx, path, sqlstore.Civil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := indexes(db); len(got) != 5 {
		t.Errorf("after reopening: indexes %v; want all five", got)
	}
	// The national read goes through the covering index (INDEXED BY fails without it).
	if _, err := db.Roster().Briefs(ctx, "", 10); err != nil {
		t.Errorf("Briefs after reopening: %v", err)
	}
}

// TestHouseholdAgreesWithSearch: Household lists what a search by filter on household
// finds, in number order, the dead too, at most the limit (derived reads households
// with it instead of the search).
func TestHouseholdAgreesWithSearch(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db := b.open(t, sqlstore.Civil)
			var ps []population.Person
			for i := range 7 {
				p := population.Person{Number: synthNumber(t, i+1), GivenName: "M", FamilyName: "House", Sex: "male",
					BirthDate: date.Of(1980, 1, 1), Household: "HH-A"}
				if i == 2 {
					p.DeathDate = date.Of(2020, 5, 5)
				}
				if i == 6 {
					p.Household = "HH-B"
				}
				ps = append(ps, p)
			}
			if err := db.Population().PutPersons(ctx, ps); err != nil {
				t.Fatal(err)
			}
			h := db.Population().(interface {
				Household(context.Context, string, int) ([]population.Person, error)
			})
			for _, tc := range []struct {
				id    string
				limit int
			}{{"HH-A", 20}, {"HH-A", 4}, {"HH-B", 20}, {"HH-NONE", 20}} {
				got, err := h.Household(ctx, tc.id, tc.limit)
				if err != nil {
					t.Fatal(err)
				}
				want, _, err := db.Searcher().Search(ctx, query.Query{Kind: query.KindFilter, Page: 1, PageSize: tc.limit,
					Filter: &query.Cond{Op: query.Eq, Attr: "household", Value: tc.id}})
				if err != nil {
					t.Fatal(err)
				}
				numbers := func(ps []population.Person) []string {
					out := []string{}
					for _, p := range ps {
						out = append(out, p.Number)
					}
					return out
				}
				if g, w := numbers(got), numbers(want); !slices.Equal(g, w) {
					t.Errorf("Household(%s, %d) = %v; want %v, as the search", tc.id, tc.limit, g, w)
				}
			}
		})
	}
}

// synthNumber is the person number of the seq-th person born on 1980-01-01.
func synthNumber(t *testing.T, seq int) string {
	t.Helper()
	n, err := ident.MakePerson(1980, 1, 1, seq, ident.Register)
	if err != nil {
		t.Fatal(err)
	}
	return n.String()
}
