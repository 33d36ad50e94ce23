package directory

import (
	"slices"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
)

func TestIndexScope(t *testing.T) {
	x := NewIndex()
	add := func(person, inst, capacity string, begin, end date.Date) {
		x.Add(Integration{Person: person, Institution: inst, Capacity: capacity, Begin: begin, End: end})
	}
	jan, jun, dec := date.Of(2026, 1, 1), date.Of(2026, 6, 1), date.Of(2026, 12, 1)
	add("85073003328", "FUND", "001", jan, 0)
	add("85073003328", "FUND", "002", jan, 0) // twice: listed once
	add("01010100225", "FUND", "001", jan, date.Of(2026, 3, 31))
	add("90010100123", "FUND", "003", jan, 0)
	add("90010100123", "CITY", "001", jan, 0)
	tests := []struct {
		caps []string
		day  date.Date
		want []string
	}{
		{[]string{"001", "002"}, jun, []string{"85073003328"}},
		{[]string{"001"}, date.Of(2026, 2, 1), []string{"01010100225", "85073003328"}},
		{[]string{"003"}, jun, []string{"90010100123"}},
		{[]string{"004"}, jun, []string{}},
	}
	for _, tt := range tests {
		s := x.Scope("FUND", tt.caps, tt.day)
		got := s.Persons("", 100)
		if !slices.Equal(got, tt.want) || s.Len() != len(tt.want) {
			t.Errorf("Scope(FUND, %v, %s) = %v (len %d); want %v", tt.caps, tt.day, got, s.Len(), tt.want)
		}
		for _, p := range tt.want {
			if !s.Contains(p) {
				t.Errorf("Scope(FUND, %v, %s) does not contain %s", tt.caps, tt.day, p)
			}
		}
		if s.Contains("90010100123") && !slices.Contains(tt.want, "90010100123") {
			t.Errorf("Scope(FUND, %v, %s) contains the city's person", tt.caps, tt.day)
		}
	}
	if got := x.Scope("FUND", []string{"001"}, date.Of(2026, 2, 1)).Persons("01010100225", 10); !slices.Equal(got, []string{"85073003328"}) {
		t.Errorf("Persons after the first = %v", got)
	}
	// A file added after a scope was computed is in the next one.
	before := x.Scope("FUND", []string{"001"}, dec)
	add("02020200261", "FUND", "001", jan, 0)
	if after := x.Scope("FUND", []string{"001"}, dec); after.Len() != before.Len()+1 {
		t.Errorf("after adding a file the scope has %d persons; want %d", after.Len(), before.Len()+1)
	}
	if x.Scope("NOBODY", []string{"001"}, jun).Len() != 0 {
		t.Errorf("an unknown institution's scope is not empty")
	}
}
