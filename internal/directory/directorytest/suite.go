// Package directorytest is the contract suite of directory.Store: every implementation
// runs it from its own tests, so that SQLite, PostgreSQL and any later store behave alike.
package directorytest

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// Run runs the suite; newStore returns an empty store for each subtest.
func Run(t *testing.T, newStore func(t *testing.T) directory.Store) {
	t.Run("records", func(t *testing.T) { runRecords(t, newStore) })
	t.Run("create", func(t *testing.T) { runCreate(t, newStore) })
	t.Run("list", func(t *testing.T) { runList(t, newStore) })
	t.Run("history", func(t *testing.T) { runHistory(t, newStore) })
	t.Run("integrate", func(t *testing.T) { runIntegrate(t, newStore) })
	t.Run("end", func(t *testing.T) { runEnd(t, newStore) })
	t.Run("files", func(t *testing.T) { runFiles(t, newStore) })
	t.Run("integrations", func(t *testing.T) { runIntegrations(t, newStore) })
	t.Run("each", func(t *testing.T) { runEach(t, newStore) })
}

// Persons of the suite, in number order P3, P1, P2: P3 is born in 2005, so its number
// begins with 0.
var (
	P1 = person(1985, 7, 30, 33)
	P2 = person(1990, 1, 1, 2)
	P3 = person(2005, 3, 14, 15)
)

func person(y, m, d, seq int) string {
	p, err := ident.MakePerson(y, m, d, seq, ident.Register)
	if err != nil {
		panic(err)
	}
	return p.String()
}

// day reads a YYYY-MM-DD date of the suite.
func day(s string) date.Date {
	d, err := date.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func add(p, inst, capacity, begin, end string) directory.Line {
	return directory.Line{Action: directory.ActionAdd, Integration: directory.Integration{
		Person: p, Institution: inst, Capacity: capacity, Begin: day(begin), End: day(end)}}
}

func end(p, inst, capacity, begin, end string) directory.Line {
	l := add(p, inst, capacity, begin, end)
	l.Action = directory.ActionEnd
	return l
}

// mustIntegrate applies lines that must all be applied.
func mustIntegrate(t *testing.T, s directory.Store, lines ...directory.Line) {
	t.Helper()
	rep, err := s.Integrate(context.Background(), "loader", lines, directory.Partial)
	if err != nil {
		t.Fatalf("Integrate: %v", err)
	}
	if rep.Applied != len(lines) {
		t.Fatalf("Integrate applied %d of %d lines: %+v", rep.Applied, len(lines), rep.Lines)
	}
}

func wantKind(t *testing.T, what string, err error, want fault.Kind) {
	t.Helper()
	if err == nil || fault.KindOf(err) != want {
		t.Fatalf("%s: error %v; want kind %v", what, err, want)
	}
}

// jsonEqual compares documents by value, so stores may normalise spacing.
func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(x, y)
}

// keys are the cursors of integrations, for short comparisons.
func keys(gs []directory.Integration) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.Cursor()
		if !g.End.IsZero() {
			out[i] += "-" + g.End.String()
		}
	}
	return out
}
