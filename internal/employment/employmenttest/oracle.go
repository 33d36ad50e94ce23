package employmenttest

import (
	"context"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/limit"
)

// testNoOracle: a hire is no way to ask the civil register who exists or who died (an
// outsider's finding: an unknown number answered "not in the civil register"). A bad
// check digit, a number the register lacks and a deceased person get one answer; an
// employer that had a relation with the deceased person is told why; and the refusals
// are limited per declarer, so a typo can be fixed but the register cannot be walked.
func testNoOracle(t *testing.T, st Stores) {
	ctx := context.Background()
	src := setup(t, st, 9)
	now := Today
	src.Now = func() time.Time { return now }
	src.Unknown = limit.New(limit.Config{Rate: 3 / 3600.0, Burst: 3, Now: src.Now})
	start := date.Of(2026, 8, 1)
	var answers []string
	for _, p := range []string{Person(1)[:10] + "0", Person(20), Person(9)} {
		_, err := src.Declare(ctx, AcmeInst, hire(p, Acme, start))
		if fault.KindOf(err) != fault.Invalid {
			t.Fatalf("hire of %s: %v; want invalid", p, err)
		}
		answers = append(answers, err.Error())
	}
	if answers[0] != answers[1] || answers[1] != answers[2] {
		t.Errorf("a bad check digit, an unknown number and a deceased person are told apart:\n%q", answers)
	}
	// The budget (3) is spent: the next hire is held back, a good one too; another
	// declarer is not.
	if _, err := src.Declare(ctx, AcmeInst, hire(Person(1), Acme, start)); fault.KindOf(err) != fault.TooMany {
		t.Errorf("a hire once the budget is spent: %v; want too many", err)
	}
	if _, err := src.Declare(ctx, OtherInst, hire(Person(1), Other, start)); err != nil {
		t.Errorf("another declarer's hire: %v", err)
	}
	// An hour later the budget is back, and a good hire costs nothing.
	now = now.Add(time.Hour)
	for range 5 {
		if _, err := src.Declare(ctx, AcmeInst, hire(Person(2), Acme, start)); err != nil && fault.KindOf(err) != fault.Conflict {
			t.Fatalf("a hire an hour later: %v", err)
		}
	}
	// An employer that employed the deceased person (a relation stored before the death
	// was known) is told the person died.
	if err := st.Employment.PutRelations(ctx, []employment.Relation{{Person: Person(9), Employer: Acme, Start: date.Of(2020, 1, 1),
		End: date.Of(2025, 12, 31), Contract: "permanent", Fraction: 1, Sector: "200", Status: employment.Active}}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Declare(ctx, AcmeInst, hire(Person(9), Acme, start)); fault.KindOf(err) != fault.Conflict {
		t.Errorf("a hire of a deceased former worker: %v; want the conflict that says so", err)
	}
	if _, err := src.Declare(ctx, OtherInst, hire(Person(9), Other, start)); err == nil || err.Error() != answers[0] {
		t.Errorf("another employer's hire of the deceased person: %v; want %q", err, answers[0])
	}
}
