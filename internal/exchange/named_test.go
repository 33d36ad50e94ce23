package exchange_test

import (
	"slices"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// TestNamedIn: the persons of many questions, each once and sorted, at most 256 in all
// however many the questions name.
func TestNamedIn(t *testing.T) {
	a, b := "85061500118", "28012300101"
	qs := []query.Query{
		{Kind: query.KindID, IDType: "PN", IDValue: a},
		{Kind: query.KindID, IDType: "PN", IDValue: "not a number"},
		{Kind: query.KindFilter, Filter: &query.Cond{Op: query.Eq, Attr: "person", Value: b}},
		{Kind: query.KindID, IDType: "PN", IDValue: a},
	}
	if got, want := exchange.NamedIn(qs), []string{b, a}; !slices.Equal(got, want) {
		t.Errorf("NamedIn = %v; want %v", got, want)
	}
	var many []query.Query
	for i := range 600 {
		p, err := ident.MakePerson(1985, 6, 15, 1+2*(i%400), ident.Register)
		if err != nil {
			t.Fatal(err)
		}
		many = append(many, query.Query{Kind: query.KindID, IDValue: p.String()})
	}
	if got := exchange.NamedIn(many); len(got) != 256 || !slices.IsSorted(got) {
		t.Errorf("NamedIn of 400 persons: %d, sorted %v; want 256, sorted", len(got), slices.IsSorted(got))
	}
}
