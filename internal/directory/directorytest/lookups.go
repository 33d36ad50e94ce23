package directorytest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// sample is a small person directory used by the lookup tests.
func sample() []directory.Line {
	return []directory.Line{
		add(P1, "FUND", "000", "2020-01-01", "2020-12-31"),
		add(P1, "FUND", "000", "2021-01-01", ""),
		add(P1, "HEALTH", "001", "2019-06-01", "2021-06-30"),
		add(P2, "FUND", "902", "2021-03-01", ""),
		add(P2, "TAX", "000", "2000-01-01", "2001-12-31"),
		add(P3, "FUND", "000", "2020-05-05", "2999-12-31"),
		add(P3, "TAX", "000", "2021-01-01", ""),
	}
}

func runFiles(t *testing.T, newStore func(t *testing.T) directory.Store) {
	ctx := context.Background()
	s := newStore(t)
	mustIntegrate(t, s, sample()...)
	tests := []struct {
		person string
		day    string
		want   []string
	}{
		{P1, "2019-12-31", []string{P1 + "/HEALTH/001/2019-06-01-2021-06-30"}},
		{P1, "2020-12-31", []string{P1 + "/FUND/000/2020-01-01-2020-12-31", P1 + "/HEALTH/001/2019-06-01-2021-06-30"}},
		{P1, "2021-01-01", []string{P1 + "/FUND/000/2021-01-01", P1 + "/HEALTH/001/2019-06-01-2021-06-30"}},
		{P1, "2021-07-01", []string{P1 + "/FUND/000/2021-01-01"}},
		{P1, "2019-01-01", []string{}},
		{P2, "2001-12-31", []string{P2 + "/TAX/000/2000-01-01-2001-12-31"}},
		{P2, "2002-01-01", []string{}},
		{P2, "9999-12-31", []string{P2 + "/FUND/902/2021-03-01"}},
		{P3, "2500-01-01", []string{P3 + "/FUND/000/2020-05-05-2999-12-31", P3 + "/TAX/000/2021-01-01"}},
		{person(1970, 1, 1, 1), "2021-01-01", []string{}},
	}
	for _, tt := range tests {
		got, err := s.Files(ctx, tt.person, day(tt.day))
		if err != nil {
			t.Fatalf("Files(%s, %s): %v", tt.person, tt.day, err)
		}
		if k := keys(got); !slices.Equal(k, tt.want) {
			t.Errorf("Files(%s, %s) = %v; want %v", tt.person, tt.day, k, tt.want)
		}
		for _, g := range got {
			if g.CreatedBy != "loader" || g.CreatedAt.IsZero() {
				t.Errorf("Files(%s, %s): %+v lacks its creation", tt.person, tt.day, g)
			}
		}
	}
	for _, bad := range []string{"", "123", "85073003362", "abcdefghijk"} {
		_, err := s.Files(ctx, bad, day("2021-01-01"))
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Kind != fault.Invalid || fe.Field != "person" {
			t.Errorf("Files(%q) error %v; want invalid person", bad, err)
		}
	}
}

func runIntegrations(t *testing.T, newStore func(t *testing.T) directory.Store) {
	ctx := context.Background()
	s := newStore(t)
	mustIntegrate(t, s, sample()...)
	all, err := s.Integrations(ctx, directory.IntegrationQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := keys(all)
	if len(want) != len(sample()) || !slices.IsSortedFunc(all, cmpIntegration) {
		t.Fatalf("Integrations() = %v; want the %d sample lines in order", want, len(sample()))
	}
	for _, size := range []int{1, 2, 3, 7} {
		var got []string
		q := directory.IntegrationQuery{Limit: size}
		for page := 0; page < 10; page++ {
			gs, err := s.Integrations(ctx, q)
			if err != nil {
				t.Fatalf("Integrations(%+v): %v", q, err)
			}
			got = append(got, keys(gs)...)
			if len(gs) < size {
				break
			}
			q.After = gs[len(gs)-1].Cursor()
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages of %d = %v; want %v", size, got, want)
		}
	}
	tests := []struct {
		q    directory.IntegrationQuery
		want []string
	}{
		{directory.IntegrationQuery{Person: P2}, []string{P2 + "/FUND/902/2021-03-01", P2 + "/TAX/000/2000-01-01-2001-12-31"}},
		{directory.IntegrationQuery{Institution: "TAX"}, []string{P3 + "/TAX/000/2021-01-01", P2 + "/TAX/000/2000-01-01-2001-12-31"}},
		{directory.IntegrationQuery{Institution: "FUND", Capacity: "902"}, []string{P2 + "/FUND/902/2021-03-01"}},
		{directory.IntegrationQuery{Institution: "FUND", Day: day("2020-06-01")}, []string{P3 + "/FUND/000/2020-05-05-2999-12-31", P1 + "/FUND/000/2020-01-01-2020-12-31"}},
		{directory.IntegrationQuery{Person: P1, After: P1 + "/FUND/000/2020-01-01"}, []string{P1 + "/FUND/000/2021-01-01", P1 + "/HEALTH/001/2019-06-01-2021-06-30"}},
		{directory.IntegrationQuery{Institution: "TAX", After: P3 + "/TAX/000/2021-01-01"}, []string{P2 + "/TAX/000/2000-01-01-2001-12-31"}},
		{directory.IntegrationQuery{Institution: "FUND", After: P1 + "/FUND/000/2020-01-01", Limit: 2}, []string{P1 + "/FUND/000/2021-01-01", P2 + "/FUND/902/2021-03-01"}},
	}
	for _, tt := range tests {
		got, err := s.Integrations(ctx, tt.q)
		if err != nil {
			t.Fatalf("Integrations(%+v): %v", tt.q, err)
		}
		if k := keys(got); !slices.Equal(k, tt.want) {
			t.Errorf("Integrations(%+v) = %v; want %v", tt.q, k, tt.want)
		}
	}
	for _, q := range []directory.IntegrationQuery{{After: "nonsense"}, {After: P1 + "/FUND/000/2020-13-01"}, {Person: "12"}} {
		if _, err := s.Integrations(ctx, q); fault.KindOf(err) != fault.Invalid {
			t.Errorf("Integrations(%+v) error %v; want invalid", q, err)
		}
	}
	runLimitCap(t, s)
}

// runLimitCap checks that a listing gives at most 1000 integrations whatever is asked.
func runLimitCap(t *testing.T, s directory.Store) {
	lines := make([]directory.Line, 1005)
	for i := range lines {
		lines[i] = add(P3, fmt.Sprintf("INST-%04d", i), "000", "2020-01-01", "")
	}
	mustIntegrate(t, s, lines...)
	got, err := s.Integrations(context.Background(), directory.IntegrationQuery{Person: P3, Limit: 5000})
	if err != nil || len(got) != 1000 {
		t.Errorf("Integrations(Limit 5000) gave %d, %v; want 1000", len(got), err)
	}
}

func cmpIntegration(a, b directory.Integration) int {
	return slices.Compare([]string{a.Person, a.Institution, a.Capacity, a.Begin.String()},
		[]string{b.Person, b.Institution, b.Capacity, b.Begin.String()})
}

func runEach(t *testing.T, newStore func(t *testing.T) directory.Store) {
	ctx := context.Background()
	s := newStore(t)
	mustIntegrate(t, s, sample()...)
	var want []string
	for _, l := range sample() {
		want = append(want, l.Cursor()) // ended ones too
	}
	slices.Sort(want)
	var got []string
	err := s.EachIntegration(ctx, func(g directory.Integration) error {
		got = append(got, g.Cursor())
		return nil
	})
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("EachIntegration gave %v, %v; want %v", got, err, want)
	}
	stop := errors.New("stop")
	n := 0
	err = s.EachIntegration(ctx, func(directory.Integration) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("EachIntegration with a failing fn: %d calls, %v; want 1 call, the error", n, err)
	}
}
