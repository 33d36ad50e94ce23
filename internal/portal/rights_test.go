package portal_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/rights"
	"github.com/crossroads-hub/crossroads/internal/rightsfacts"
)

// holder returns a living person of the nation whose current decision grants right,
// and who has no decision granting without, when without is not ""; of 66 or more
// (who hold the old-age pension) when old.
func (tg *target) holder(t *testing.T, right, without string, old bool) string {
	t.Helper()
	ctx := context.Background()
	var ps []string
	var cur []rights.Decision
	for q := (population.Query{Limit: 500}); ; {
		page, err := tg.st.Civil.Population().Persons(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		var some []string
		cut := date.FromTime(time.Now()).AddDays(-66 * 366)
		for _, p := range page {
			if p.DeathDate.IsZero() && (!old || p.BirthDate < cut) {
				some = append(some, p.Number)
			}
		}
		ds, err := tg.st.Civil.Rights().Current(ctx, some)
		if err != nil {
			t.Fatal(err)
		}
		ps, cur = append(ps, some...), append(cur, ds...)
		q.After = page[len(page)-1].Number
	}
	held := map[string]map[string]bool{}
	for _, d := range cur {
		if held[d.Person] == nil {
			held[d.Person] = map[string]bool{}
		}
		held[d.Person][d.Right] = d.Holds()
	}
	for _, p := range ps {
		if held[p][right] && (without == "" || !held[p][without]) {
			return p
		}
	}
	t.Fatalf("no person of the nation holds %s (without %q)", right, without)
	return ""
}

// proveStatus creates a proof of status and returns its code and credential.
func (b *browser) proveStatus(status string) (code, jwt string) {
	b.t.Helper()
	b.get("/portal/proof")
	st, page := b.post("/portal/proof", url.Values{"status": {status}})
	c, j := codeRE.FindStringSubmatch(page), jwtRE.FindStringSubmatch(page)
	if st != http.StatusOK || c == nil || j == nil {
		b.t.Fatalf("create a proof of %s: %d %.800s", status, st, page)
	}
	return c[1], j[1]
}

// card returns the statuses page's card of a status, "" when there is none.
func card(page, id string) string {
	i := strings.Index(page, `data-status="`+id+`"`)
	if i < 0 {
		return ""
	}
	rest := page[i:]
	if end := strings.Index(rest, `<li class="card`); end >= 0 {
		return rest[:end]
	}
	return rest
}

// TestRightExplained: the statuses page shows a right from the engine's decision — the
// decision, the rule in words, the statutes it rests on, the facts with source and
// date — read by the person themselves and recorded under SELF; on a day before the
// decision there is none; a derived status a decision covers is no longer shown.
func TestRightExplained(t *testing.T) {
	t.Parallel()
	tg := start(t)
	person := tg.holder(t, "social-energy-tariff", "", false)
	citizen := tg.browser(t)
	citizen.login(person)
	_, page := citizen.get("/portal/statuses")
	c := card(page, "right:social-energy-tariff")
	if c == "" {
		t.Fatalf("the statuses page shows no social energy tariff: %.2000s", page)
	}
	today := date.FromTime(time.Now()).String()
	if !strings.Contains(page, `class="card holds" data-status="right:social-energy-tariff"`) {
		t.Error("the tariff is not shown as held")
	}
	for _, want := range []string{"Social tariff for electricity and gas", "granted, from " + today,
		"alive and the age is at least 18 and", "Programme Act of 27 April 2007", "SOCIAL-REGISTRY",
		"<td>age</td>", "<td>civil-person</td>", "Statutes it rests on"} {
		if !strings.Contains(html.UnescapeString(c), want) {
			t.Errorf("the tariff's card lacks %q: %s", want, c)
		}
	}
	// Every fact shown has a source and a date.
	rows := strings.Split(c, "<tr>")
	if len(rows) < 3 {
		t.Fatalf("the tariff's card shows no facts: %s", c)
	}
	for _, row := range rows[2:] {
		if cells := strings.Split(row, "<td>"); len(cells) != 5 || strings.HasPrefix(cells[3], "</td>") || strings.HasPrefix(cells[4], "</td>") {
			t.Errorf("a fact without source or date: %s", row)
		}
	}
	if strings.Contains(page, person) {
		t.Error("the statuses page shows the person number")
	}

	// The day before the decision: no decision, not held.
	yesterday := date.FromTime(time.Now()).AddDays(-1).String()
	_, past := citizen.get("/portal/statuses?date=" + yesterday)
	if c := card(past, "right:social-energy-tariff"); c == "" || strings.Contains(past, `holds" data-status="right:social-energy-tariff"`) || !strings.Contains(html.UnescapeString(c), "No decision") {
		t.Errorf("on %s (before the decision) the tariff's card is %q; want no decision, not held", yesterday, c)
	}

	// The readings are the person's own, in their "who consulted my data".
	_, cons := citizen.get("/portal/consultations")
	if n := strings.Count(html.UnescapeString(cons), rightsfacts.SelfPurpose); n < 2 {
		t.Errorf("who consulted my data shows %d readings of the statuses and rights; want 2 (today, the day before)", n)
	}
	// Each is a record naming the person alone, under SELF, with its evidence.
	var self string
	for _, row := range strings.Split(cons, "<tr") {
		if strings.Contains(html.UnescapeString(row), rightsfacts.SelfPurpose) {
			self = row
			break
		}
	}
	m := seqRE.FindStringSubmatch(self)
	if m == nil {
		t.Fatalf("no evidence for the reading of the statuses and rights: %s", self)
	}
	st, ev := citizen.get(m[0])
	var e struct {
		Record []byte `json:"record"`
	}
	if st != http.StatusOK || json.Unmarshal([]byte(ev), &e) != nil {
		t.Fatalf("evidence %s: %d %.300s", m[0], st, ev)
	}
	var rec audit.Record
	if err := json.Unmarshal(e.Record, &rec); err != nil || rec.Institution != exchange.SelfInstitution ||
		!slices.Equal(rec.Persons, []string{person}) || !strings.Contains(rec.Service, "civil-person") || rec.Decision != audit.Permit {
		t.Errorf("the reading's record: %+v (%v); want SELF, the person alone, the sources read, permitted", rec, err)
	}

	// A person with a disability granted by the engine: the disability registry's
	// status, which the statute decides, is no longer shown beside it.
	disabled := tg.holder(t, "person-with-disability", "", false)
	other := tg.browser(t)
	other.login(disabled)
	_, dpage := other.get("/portal/statuses")
	if card(dpage, "right:person-with-disability") == "" || card(dpage, "disabled") != "" {
		t.Errorf("a person with a disability decided: card of the statute %t, of the registry's status %t; want the statute alone",
			card(dpage, "right:person-with-disability") != "", card(dpage, "disabled") != "")
	}
}

// TestProveARight: a proof of a right granted is valid at the verifier's desk while the
// decision grants it, and not valid once the right ended — both recorded under the
// person; a right not held, or not in the catalogue, cannot be proved.
func TestProveARight(t *testing.T) {
	t.Parallel()
	tg := start(t)
	person := tg.holder(t, "social-energy-tariff", "guaranteed-minimum-income", false)
	citizen := tg.browser(t)
	citizen.login(person)
	for _, s := range []string{"right:guaranteed-minimum-income", "right:no-such-right", "right:", "right:social-energy-tariff\x00"} {
		citizen.get("/portal/proof")
		if st, page := citizen.post("/portal/proof", url.Values{"status": {s}}); st != http.StatusBadRequest || codeRE.MatchString(page) {
			t.Errorf("proof of %q (not held): %d; want 400 and no code", s, st)
		}
	}
	code, jwt := citizen.proveStatus("right:social-energy-tariff")
	pro := tg.browser(t)
	pro.proLogin()
	for _, tc := range []struct{ field, value string }{{"code", code}, {"credential", jwt}} {
		st, page := pro.verify(tc.field, tc.value)
		if st != http.StatusOK || !strings.Contains(page, "verdict valid") || !strings.Contains(page, `data-status="right:social-energy-tariff"`) {
			t.Errorf("verify by %s: %d %.800s", tc.field, st, page)
		}
		if strings.Contains(page, person) {
			t.Error("the verifier was shown the person number")
		}
	}

	// The right ends (the engine decided so): the same proofs are no longer valid today.
	ctx := context.Background()
	end := rights.Decision{Person: person, Right: "social-energy-tariff", Version: 1, Result: rights.Ended,
		Effective: date.FromTime(time.Now()), Decided: time.Now().Unix(), Institution: "SOCIAL-REGISTRY", Facts: []rights.Fact{}}
	if err := tg.st.Civil.Rights().Save(ctx, []rights.Decision{end}, rights.Mark{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ field, value string }{{"code", code}, {"credential", jwt}} {
		st, page := pro.verify(tc.field, tc.value)
		if st != http.StatusOK || !strings.Contains(page, "verdict invalid") || !strings.Contains(html.UnescapeString(page), "no longer holds") {
			t.Errorf("verify by %s after the right ended: %d %.800s", tc.field, st, page)
		}
	}
	_, page := citizen.get("/portal/statuses")
	if c := card(page, "right:social-energy-tariff"); strings.Contains(page, `holds" data-status="right:social-energy-tariff"`) || !strings.Contains(c, "ended, from") {
		t.Errorf("the ended tariff's card: %s", c)
	}
	_, cons := citizen.get("/portal/consultations")
	if n := strings.Count(cons, "<td>MUSEUM</td>"); n != 4 {
		t.Errorf("who consulted my data shows %d checks by the museum; want 4 (2 valid, 2 refused)", n)
	}
}
