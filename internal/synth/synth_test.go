package synth

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/population"
)

var testToday = date.Of(2026, 1, 15)

// generated is a nation in the in-memory stores.
type generated struct {
	sum Summary
	pop *memPop
	dir *memDir
}

func generate(t testing.TB, seed uint64, persons int) generated {
	t.Helper()
	n := generated{pop: &memPop{}, dir: newMemDir()}
	var err error
	n.sum, err = Generate(context.Background(), Config{Seed: seed, Persons: persons, Today: testToday},
		n.pop, directory.New(n.dir, nil))
	if err != nil {
		t.Fatalf("Generate(seed %d, %d persons) = %v", seed, persons, err)
	}
	return n
}

func TestDeterminism(t *testing.T) {
	a, b, c := generate(t, 7, 3000), generate(t, 7, 3000), generate(t, 8, 3000)
	same := []struct {
		name string
		a, b any
	}{
		{"summary", a.sum, b.sum},
		{"places", a.pop.places, b.pop.places},
		{"persons", a.pop.persons, b.pop.persons},
		{"events", a.pop.events, b.pop.events},
		{"records", a.dir.order, b.dir.order},
		{"integrations", a.dir.lines, b.dir.lines},
	}
	for _, s := range same {
		if !reflect.DeepEqual(s.a, s.b) {
			t.Errorf("two nations of seed 7 differ in their %s", s.name)
		}
	}
	if reflect.DeepEqual(a.pop.persons, c.pop.persons) {
		t.Errorf("nations of seeds 7 and 8 have the same persons")
	}
	if reflect.DeepEqual(a.dir.order, c.dir.order) {
		t.Errorf("nations of seeds 7 and 8 have the same directory records")
	}
}

func TestSizes(t *testing.T) {
	for _, persons := range []int{1, 2, 3, 5, 17, 250} {
		n := generate(t, 1, persons)
		if n.sum.Persons != persons || len(n.pop.persons) != persons {
			t.Errorf("Generate(%d persons) made %d (summary %d)", persons, len(n.pop.persons), n.sum.Persons)
		}
		if want := max(3, persons/25); n.sum.Employers != want || n.sum.Places < 6+12 {
			t.Errorf("Generate(%d persons): %d employers, %d places; want %d and at least 18", persons, n.sum.Employers, n.sum.Places, want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Persons: 0, Today: testToday},
		{Persons: MaxPersons + 1, Today: testToday},
		{Persons: 10},
		{Persons: 10, Today: date.Of(2015, 12, 31)},
		{Persons: 10, Today: date.Of(2026, 2, 30)},
		{Persons: 10, Today: date.Of(2100, 1, 1)},
	} {
		if _, err := Generate(context.Background(), c, &memPop{}, directory.New(newMemDir(), nil)); err == nil {
			t.Errorf("Generate(%+v) = nil error; want one", c)
		}
	}
}

func TestCalendar(t *testing.T) {
	for _, d := range []date.Date{date.Of(1900, 1, 1), date.Of(1900, 3, 1), date.Of(1970, 1, 1),
		date.Of(2000, 2, 29), date.Of(2024, 12, 31), date.Of(2099, 12, 31)} {
		for _, n := range []int{-400, -1, 0, 1, 59, 366, 36524} {
			if got, want := fromDayNum(dayNum(d)+n), d.AddDays(n); got != want {
				t.Errorf("fromDayNum(dayNum(%s)+%d) = %s; want %s", d, n, got, want)
			}
		}
	}
	tests := []struct {
		born  date.Date
		years int
		want  date.Date
	}{
		{date.Of(2000, 2, 29), 18, date.Of(2018, 2, 28)},
		{date.Of(2000, 2, 29), 4, date.Of(2004, 2, 29)},
		{date.Of(1961, 7, 3), 65, date.Of(2026, 7, 3)},
		{date.Of(2026, 1, 15), -100, date.Of(1926, 1, 15)},
	}
	for _, tt := range tests {
		if got := fromDayNum(anniversary(dayNum(tt.born), tt.years)); got != tt.want {
			t.Errorf("anniversary(%s, %d) = %s; want %s", tt.born, tt.years, got, tt.want)
		}
	}
}

func TestProgress(t *testing.T) {
	var stages []string
	last := map[string][2]int{}
	cfg := Config{Seed: 3, Persons: 50_000, Today: testToday, Progress: func(stage string, done, total int) {
		if len(stages) == 0 || stages[len(stages)-1] != stage {
			stages = append(stages, stage)
		}
		last[stage] = [2]int{done, total}
	}}
	if _, err := Generate(context.Background(), cfg, &memPop{}, directory.New(newMemDir(), nil)); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range stages {
		if seen[s] {
			t.Errorf("stage %q came back: %v", s, stages)
		}
		seen[s] = true
	}
	if got := last["person directory"]; got != [2]int{50_000, 50_000} {
		t.Errorf("last person directory progress = %v; want [50000 50000] (stages %v)", got, stages)
	}
}

// TestBands checks that drawing a nation band by band writes exactly what one band does.
func TestBands(t *testing.T) {
	defer func(n int) { bandPersons = n }(bandPersons)
	bandPersons = 4000
	one := generate(t, 11, 4000)
	bandPersons = 700
	six := generate(t, 11, 4000)
	for _, c := range []struct {
		name string
		a, b any
	}{
		{"summary", one.sum, six.sum},
		{"persons", one.pop.persons, six.pop.persons},
		{"events", one.pop.events, six.pop.events},
		{"integrations", one.dir.lines, six.dir.lines},
	} {
		if !reflect.DeepEqual(c.a, c.b) {
			t.Errorf("a nation drawn in one band and in six differ in their %s", c.name)
		}
	}
	sorted := []struct {
		name string
		ok   bool
	}{
		{"persons by number", slices.IsSortedFunc(six.pop.persons, func(a, b population.Person) int {
			return strings.Compare(a.Number, b.Number)
		})},
		{"events by person and date", slices.IsSortedFunc(six.pop.events, func(a, b population.Event) int {
			return cmp.Or(strings.Compare(a.Person, b.Person), cmp.Compare(a.Date, b.Date))
		})},
		{"integrations by key", slices.IsSortedFunc(six.dir.lines, func(a, b directory.Integration) int {
			return strings.Compare(a.Cursor(), b.Cursor())
		})},
	}
	for _, s := range sorted {
		if !s.ok {
			t.Errorf("the stores did not receive %s", s.name)
		}
	}
}

func TestCut(t *testing.T) {
	per := make([]int, 10)
	for i := range per {
		per[i] = 10
	}
	bands, sizes := cut(per, 100, 3)
	want := []band{{0, 4}, {4, 8}, {8, everyone.hi}}
	if !reflect.DeepEqual(bands, want) || !reflect.DeepEqual(sizes, []int{40, 40, 20}) {
		t.Errorf("cut(10×10, 100, 3) = %v, %v; want %v, [40 40 20]", bands, sizes, want)
	}
}
