package employmenttest

import (
	"context"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// testAsOf: the source answers a past day as it knew it then: a relation as declared
// before a later correction, none hired after, the wages of the files received by then
// (a later corrective file not yet there), and today the corrected facts.
func testAsOf(t *testing.T, st Stores) {
	ctx := context.Background()
	src := setup(t, st, 3)
	now := Today
	src.Now = func() time.Time { return now }
	p := Person(1)
	d, err := src.Declare(ctx, PayrollInst, hire(p, Acme, date.Of(2026, 1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ingest(t, src, employment.JSONLines, line(p, Acme, "2026Q2", 900000, 60, 456, 1)+"\n", acmeOnly); err != nil {
		t.Fatal(err)
	}
	day1 := date.FromTime(now)
	now = now.AddDate(0, 0, 10) // ten days later: a correction, a corrective file, another hire
	if _, err := src.Declare(ctx, PayrollInst, employment.Declaration{Kind: employment.Correct, Relation: d.Relation, Fraction: 0.5}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ingest(t, src, employment.JSONLines, line(p, Acme, "2026Q2", 450000, 60, 228, 0.5)+"\n", acmeOnly); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Declare(ctx, AcmeInst, hire(p, Other, date.Of(2026, 2, 1))); err == nil {
		t.Fatal("Acme declared for Other")
	}
	if _, err := src.Declare(ctx, OtherInst, hire(p, Other, date.Of(2026, 2, 1))); err != nil {
		t.Fatal(err)
	}
	x := &employment.Exchange{Store: st.Employment, Today: func() date.Date { return date.FromTime(now) }}
	ask := func(day date.Date) map[string]any {
		t.Helper()
		res, err := x.Search(ctx, exchange.SourceRequest{Query: query.Query{Kind: query.KindID, IDType: "PN", IDValue: p}, Day: day})
		if err != nil || len(res.Records) != 1 {
			t.Fatalf("Search(%s) = %+v, %v", day, res, err)
		}
		return res.Records[0]
	}
	then := ask(day1)
	periods, wages := then["employment_periods"].([]any), then["wages"].([]any)
	if len(periods) != 1 || periods[0].(map[string]any)["fraction"] != 1.0 {
		t.Errorf("on %s: periods %v; want the one relation, full-time as declared then", day1, periods)
	}
	if len(wages) != 1 || wages[0].(map[string]any)["wages"] != int64(900000) {
		t.Errorf("on %s: wages %v; want the first file's 900000", day1, wages)
	}
	today := ask(0)
	periods, wages = today["employment_periods"].([]any), today["wages"].([]any)
	if len(periods) != 2 || periods[0].(map[string]any)["fraction"] != 0.5 {
		t.Errorf("today: periods %v; want two, the first corrected to 0.5", periods)
	}
	if len(wages) != 1 || wages[0].(map[string]any)["wages"] != int64(450000) {
		t.Errorf("today: wages %v; want the corrective file's 450000 only", wages)
	}
	rels, lines, err := st.Employment.KnownOn(ctx, p, day1.Time())
	if err != nil || len(rels) != 0 || len(lines) != 0 {
		t.Errorf("KnownOn(the first day's midnight) = %v, %v, %v; want nothing yet (declared at 09:00)", rels, lines, err)
	}
}
