package populationtest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/population"
)

func runPersons(t *testing.T, newStore func(t *testing.T) population.Store) {
	ctx := context.Background()
	s := newStore(t)
	young := sample(100)
	young.Number, young.BirthDate = number(2005, 3, 14, 15), date.Of(2005, 3, 14) // begins with 0
	young.Mother, young.Father = sample(1).Number, sample(2).Number
	mustPut(t, s, append(samples(10), young)...)
	for _, want := range append(samples(10), young) {
		got, err := s.Person(ctx, want.Number)
		if err != nil || !samePerson(got, want) {
			t.Fatalf("Person(%s) = %+v, %v; want %+v", want.Number, got, err, want)
		}
		got, err = s.PersonByBRN(ctx, want.BRN)
		if err != nil || !samePerson(got, want) {
			t.Fatalf("PersonByBRN(%s) = %+v, %v; want %+v", want.BRN, got, err, want)
		}
	}
	moved := sample(3)
	moved.Address.Municipality, moved.BRN = "M9", "BRN-NEW"
	stale := sample(3)
	stale.GivenName = "Stale"
	mustPut(t, s, stale, moved) // the last of repeated numbers wins
	if got, err := s.Person(ctx, moved.Number); err != nil || !samePerson(got, moved) {
		t.Errorf("Person after a replace = %+v, %v; want %+v", got, err, moved)
	}
	_, err := s.PersonByBRN(ctx, sample(3).BRN)
	wantKind(t, "PersonByBRN(replaced brn)", err, fault.NotFound)
	_, err = s.Person(ctx, number(1970, 1, 1, 998))
	wantKind(t, "Person(missing)", err, fault.NotFound)
	_, err = s.PersonByBRN(ctx, "BRN-NONE")
	wantKind(t, "PersonByBRN(missing)", err, fault.NotFound)
	var fe *fault.Error
	if _, err := s.Person(ctx, "1234"); !errors.As(err, &fe) || fe.Kind != fault.Invalid || fe.Field != "person" {
		t.Errorf("Person(1234) error %v; want invalid person", err)
	}
	clash := sample(5)
	clash.BRN = sample(6).BRN
	wantKind(t, "PutPersons(brn of another person)", s.PutPersons(ctx, []population.Person{clash}), fault.Conflict)
	if got, _ := s.Person(ctx, sample(5).Number); !samePerson(got, sample(5)) {
		t.Errorf("a failed PutPersons changed %s: %+v", clash.Number, got)
	}
	persons, deceased, err := s.Count(ctx)
	if err != nil || persons != 11 || deceased != 2 {
		t.Errorf("Count() = %d, %d, %v; want 11, 2", persons, deceased, err)
	}
}

func runList(t *testing.T, newStore func(t *testing.T) population.Store) {
	ctx := context.Background()
	s := newStore(t)
	if n, d, err := s.Count(ctx); err != nil || n != 0 || d != 0 {
		t.Fatalf("Count() of an empty register = %d, %d, %v", n, d, err)
	}
	all := samples(30)
	// Load in two calls, the second repeating a person, as a chunked loader would.
	mustPut(t, s, all[:20]...)
	mustPut(t, s, all[19:]...)
	byNumber := func(q population.Query) []string {
		t.Helper()
		ps, err := s.Persons(ctx, q)
		if err != nil {
			t.Fatalf("Persons(%+v): %v", q, err)
		}
		out := []string{}
		for _, p := range ps {
			out = append(out, p.Number)
		}
		return out
	}
	var want, wantM2 []string
	for _, p := range all {
		want = append(want, p.Number)
		if p.Address.Municipality == "M2" {
			wantM2 = append(wantM2, p.Number)
		}
	}
	slices.Sort(want)
	slices.Sort(wantM2)
	tests := []struct {
		q    population.Query
		want []string
	}{
		{population.Query{}, want},
		{population.Query{Limit: 5}, want[:5]},
		{population.Query{After: want[4], Limit: 5}, want[5:10]},
		{population.Query{After: want[29]}, []string{}},
		{population.Query{Municipality: "M2"}, wantM2},
		{population.Query{Municipality: "M2", After: wantM2[2], Limit: 3}, wantM2[3:6]},
		{population.Query{Municipality: "M7"}, []string{}},
	}
	for _, tt := range tests {
		if got := byNumber(tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("Persons(%+v) = %v; want %v", tt.q, got, tt.want)
		}
	}
	if n, d, err := s.Count(ctx); err != nil || n != 30 || d != 6 {
		t.Errorf("Count() = %d, %d, %v; want 30, 6", n, d, err)
	}
}
