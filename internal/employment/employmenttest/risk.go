package employmenttest

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// testRiskOnce: the same social-risk declaration is taken once, even when the copies
// arrive together (an outsider's finding: both passed the check made before the
// transaction). The store refuses the second by its unique key, and the source names
// the declaration received first.
func testRiskOnce(t *testing.T, st Stores) {
	ctx := context.Background()
	src := setup(t, st, 3)
	src.Competent = func(context.Context, string, string, date.Date) (string, error) { return "INSURER", nil }
	if _, err := src.Declare(ctx, AcmeInst, hire(Person(1), Acme, date.Of(2026, 1, 1))); err != nil {
		t.Fatal(err)
	}
	start := employment.RiskDeclaration{Risk: employment.Incapacity, Phase: employment.RiskStart, Person: Person(1), Employer: Acme,
		Day: date.Of(2026, 7, 10), Cause: "illness",
		Wages: &employment.RiskWages{From: date.Of(2026, 7, 1), To: date.Of(2026, 7, 9), Wages: 100000, Days: 7, Hours: 53.2}}

	const copies = 8
	var wg sync.WaitGroup
	errs := make([]error, copies)
	ids := make([]int64, copies)
	for i := range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := src.DeclareRisk(ctx, AcmeInst, start)
			errs[i], ids[i] = err, d.ID
		}()
	}
	wg.Wait()
	var first int64
	for i, err := range errs {
		if err == nil {
			if first != 0 {
				t.Fatalf("the same start was taken twice: declarations %d and %d", first, ids[i])
			}
			first = ids[i]
		}
	}
	if first == 0 {
		t.Fatalf("no copy of the start was taken: %v", errs)
	}
	for _, err := range errs {
		if err != nil && (fault.KindOf(err) != fault.Conflict || !strings.Contains(err.Error(), "received already")) {
			t.Errorf("a copy of the start: %v; want a conflict naming declaration %d", err, first)
		}
	}
	if all, err := st.Employment.Risks(ctx, Person(1)); err != nil || len(all) != 1 {
		t.Errorf("Risks = %d declarations, %v; want 1", len(all), err)
	}

	// The store alone, without the source's check before it: the key refuses the copy.
	d := start
	d.Institution, d.Status, d.Received = "INSURER", employment.RiskSubmitted, Today
	ev := employment.Mutation{Type: employment.EventSocialRisk, Person: d.Person, Date: d.Day, Data: []byte(`{}`)}
	if _, err := st.Employment.ApplyRisk(ctx, d, ev); fault.KindOf(err) != fault.Conflict {
		t.Errorf("ApplyRisk of a copy = %v; want a conflict", err)
	}
	// Another day is another declaration.
	d.Day, d.Wages.To = date.Of(2026, 7, 12), date.Of(2026, 7, 11)
	if _, err := st.Employment.ApplyRisk(ctx, d, ev); err != nil {
		t.Errorf("ApplyRisk of a start on another day = %v", err)
	}
}
