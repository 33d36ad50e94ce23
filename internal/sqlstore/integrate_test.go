package sqlstore_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// TestIntegrateModel checks Integrate against a model that applies lines one by one, on
// a batch larger than PostgreSQL's chunks, where lines of many keys go in bulk and lines
// sharing keys go one by one.
func TestIntegrateModel(t *testing.T) {
	lines := randomLines(rand.New(rand.NewPCG(7, 11)), 12_000)
	want, wantStatus := model(lines)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t, sqlstore.Hub).Directory()
			rep, err := s.Integrate(context.Background(), "model", lines, directory.Partial)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range rep.Lines {
				if r.Status != wantStatus[i] {
					t.Fatalf("line %d (%+v): %s %s; want %s", i+1, lines[i], r.Status, r.Error, wantStatus[i])
				}
			}
			var got []string
			err = s.EachIntegration(context.Background(), func(g directory.Integration) error {
				got = append(got, g.Cursor()+"-"+g.End.String())
				return nil
			})
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("after the batch %d integrations (%v); want %d", len(got), err, len(want))
			}
		})
	}
}

// randomLines mixes lines of many persons (mostly alone in their key) with lines of a few
// persons (overlaps, duplicates, ends of open and missing periods). Periods end in the
// future so that EachIntegration lists them all.
func randomLines(r *rand.Rand, n int) []directory.Line {
	lines := make([]directory.Line, n)
	var adds []directory.Integration
	for i := range lines {
		p := benchPerson(r.IntN(40))
		if r.IntN(2) == 0 {
			p = benchPerson(1000 + r.IntN(1_000_000))
		}
		g := directory.Integration{Person: p, Institution: []string{"FUND", "TAX"}[r.IntN(2)],
			Capacity: []string{"000", "001"}[r.IntN(2)], Begin: date.Of(2030, 1, 1).AddDays(r.IntN(2000))}
		action := directory.ActionAdd
		switch r.IntN(4) {
		case 0:
			if len(adds) > 0 && r.IntN(4) > 0 { // most ends name a period added before
				g = adds[r.IntN(len(adds))]
			}
			action, g.End = directory.ActionEnd, g.Begin.AddDays(r.IntN(100))
		case 1:
			g.End = g.Begin.AddDays(r.IntN(300))
		}
		if action == directory.ActionAdd {
			adds = append(adds, g)
		}
		lines[i] = directory.Line{Action: action, Integration: g}
	}
	return lines
}

// model applies lines in order to a map of periods and returns the integrations, as
// cursor-end strings in key order, and the status of each line.
func model(lines []directory.Line) ([]string, []string) {
	type key struct{ p, inst, cap string }
	periods := map[key][]directory.Integration{}
	status := make([]string, len(lines))
	for i, l := range lines {
		k := key{l.Person, l.Institution, l.Capacity}
		status[i] = directory.LineRejected
		if l.Action == directory.ActionEnd {
			for j, g := range periods[k] {
				if g.Begin == l.Begin && g.End.IsZero() {
					periods[k][j].End, status[i] = l.End, directory.LineApplied
				}
			}
			continue
		}
		if !slices.ContainsFunc(periods[k], l.Integration.Overlaps) {
			periods[k], status[i] = append(periods[k], l.Integration), directory.LineApplied
		}
	}
	var all []directory.Integration
	for _, gs := range periods {
		all = append(all, gs...)
	}
	slices.SortFunc(all, func(a, b directory.Integration) int {
		return slices.Compare([]string{a.Person, a.Institution, a.Capacity, a.Begin.String()},
			[]string{b.Person, b.Institution, b.Capacity, b.Begin.String()})
	})
	out := make([]string, len(all))
	for i, g := range all {
		out[i] = g.Cursor() + "-" + g.End.String()
	}
	return out, status
}
