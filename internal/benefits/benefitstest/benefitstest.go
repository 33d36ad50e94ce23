// Package benefitstest is the contract suite every benefits.Store must pass, and
// Memory, a store in memory.
package benefitstest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/benefits"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// Run runs the suite; open returns a new, empty store for each test.
func Run(t *testing.T, open func(t *testing.T) benefits.Store) {
	t.Run("AppendAndRead", func(t *testing.T) { testAppendAndRead(t, open(t)) })
	t.Run("VersionOnce", func(t *testing.T) { testVersionOnce(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open(t)) })
}

// Person returns the i-th test person number.
func Person(i int) string {
	p, err := ident.MakePerson(1950+i%50, 1+i%12, 1+i%28, 1+2*(i/1400), ident.Register)
	if err != nil {
		panic(err)
	}
	return p.String()
}

// Report is a report of person under reference, version v, as a store receives it.
func Report(person, reference string, v int) benefits.Report {
	return benefits.Report{Institution: "SOCIAL-REGISTRY", Reference: reference, Version: v, Action: benefits.Reported,
		Person: person, Right: "social-energy-tariff", Benefit: "social tariff applied", From: date.Of(2026, 12, 1),
		Client: "energy-app", Recorded: time.Unix(1_765_000_000, 123_000).UTC()}
}

func testAppendAndRead(t *testing.T, s benefits.Store) {
	ctx := context.Background()
	a, b := Person(1), Person(2)
	first, err := s.Append(ctx, Report(a, "R-1", 1))
	if err != nil || first.ID == 0 {
		t.Fatalf("Append = %+v, %v; want an id", first, err)
	}
	end := Report(a, "R-1", 2)
	end.Action, end.Until = benefits.Ended, date.Of(2027, 3, 31)
	if _, err := s.Append(ctx, end); err != nil {
		t.Fatalf("Append(end): %v", err)
	}
	other := Report(b, "R-2", 1)
	other.Institution = "PENSION-FUND"
	if _, err := s.Append(ctx, other); err != nil {
		t.Fatalf("Append(other): %v", err)
	}
	vs, err := s.Versions(ctx, "SOCIAL-REGISTRY", "R-1")
	if err != nil || len(vs) != 2 || vs[0].Version != 1 || vs[1].Version != 2 || vs[1].Until != date.Of(2027, 3, 31) {
		t.Fatalf("Versions = %+v, %v; want versions 1 and 2, the end's last day", vs, err)
	}
	if got, want := vs[0], first; got != want {
		t.Errorf("Versions[0] = %+v; want what Append returned, %+v", got, want)
	}
	if vs, _ := s.Versions(ctx, "PENSION-FUND", "R-1"); len(vs) != 0 {
		t.Errorf("another institution's reference R-1: %+v; want none (references are per institution)", vs)
	}
	mine, err := s.ByPerson(ctx, a)
	if err != nil || len(mine) != 2 || mine[0].Person != a || mine[1].Person != a {
		t.Fatalf("ByPerson(a) = %+v, %v; want a's two versions", mine, err)
	}
	if cur := benefits.Current(mine); len(cur) != 1 || cur[0].Action != benefits.Ended {
		t.Errorf("Current = %+v; want the end", cur)
	}
	if none, err := s.ByPerson(ctx, Person(3)); err != nil || len(none) != 0 {
		t.Errorf("ByPerson(nobody) = %+v, %v; want none", none, err)
	}
}

func testVersionOnce(t *testing.T, s benefits.Store) {
	ctx := context.Background()
	if _, err := s.Append(ctx, Report(Person(1), "R-1", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, Report(Person(2), "R-1", 1)); fault.KindOf(err) != fault.Conflict {
		t.Errorf("version 1 of R-1 again: %v; want a conflict", err)
	}
	if vs, _ := s.Versions(ctx, "SOCIAL-REGISTRY", "R-1"); len(vs) != 1 || vs[0].Person != Person(1) {
		t.Errorf("Versions = %+v; want the first only", vs)
	}
}

// testConcurrent makes the same change from several goroutines: one is stored.
func testConcurrent(t *testing.T, s benefits.Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Append(ctx, Report(Person(1), "R-9", 1))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case fault.KindOf(err) != fault.Conflict:
			t.Errorf("Append at once: %v; want nil or a conflict", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d appends of one version succeeded; want 1", ok, len(errs))
	}
}
