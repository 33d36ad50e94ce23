package attack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/synth"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// authorizationOf returns the id of institution's authorization for service.
func (tg *target) authorizationOf(t *testing.T, institution, service string) directory.Authorization {
	t.Helper()
	status, body := tg.adminDo(t, "GET", "/admin/authorizations?institution="+institution+"&service="+service, nil)
	if status != 200 {
		t.Fatalf("authorizations: %d %s", status, clip(body))
	}
	var page struct {
		Items []directory.Authorization `json:"items"`
	}
	if err := json.Unmarshal(body, &page); err != nil || len(page.Items) == 0 {
		t.Fatalf("authorizations of %s for %s: %s %v", institution, service, clip(body), err)
	}
	return page.Items[0]
}

// setLookback lets a's questions reach back days, through the admin API.
func (tg *target) setLookback(t *testing.T, a directory.Authorization, days int) {
	t.Helper()
	a.LookbackDays = days
	if status, body := tg.adminDo(t, "PUT", "/admin/authorizations/"+a.ID, a); status != 200 {
		t.Fatalf("PUT authorization %s: %d %s", a.ID, status, clip(body))
	}
}

func onDate(d date.Date) string { return fmt.Sprintf(`{"on_date":%q}`, d.String()) }

// An authorization that has ended does not come back to life for a question about a day
// when it was in force.
func TestPastDayDoesNotRevive(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	tok := tg.token(t, synth.TaxOffice)
	a := tg.authorizationOf(t, synth.TaxOffice, synth.CivilPerson)
	if a.ValidTo.IsZero() || a.ValidTo >= today() {
		t.Fatalf("the tax office's authorization %s is in force: %+v", a.ID, a)
	}
	p := tg.files(t, synth.PensionFund, today(), 1)[0].Person
	status, _, body := tg.dci(t, tok, search{criteria: byID("PN", p), meta: onDate(a.ValidTo.AddDays(-30))})
	if status != 403 || strings.Contains(string(body), "reg_records") {
		t.Errorf("question about a day the ended authorization covered: %d %s; want 403 and no record", status, clip(body))
	}
}

// A question about a past day is allowed only as far back as the authorization says,
// and answered with the record as it stood that day, not today's.
func TestPastDayAnswersThePast(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	ctx := context.Background()
	tok := tg.token(t, synth.PensionFund)
	a := tg.authorizationOf(t, synth.PensionFund, synth.CivilPerson)
	p := tg.files(t, synth.PensionFund, today(), 40)[39].Person
	before, err := tg.st.Civil.Population().Person(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	yesterday := today().AddDays(-1)
	// Not allowed yet: the authorization reaches back no day.
	tg.setLookback(t, a, 0)
	if status, _, body := tg.dci(t, tok, search{criteria: byID("PN", p), meta: onDate(yesterday)}); status != 403 {
		t.Errorf("yesterday with no look-back: %d %s; want 403", status, clip(body))
	}
	tg.setLookback(t, a, 30)
	// The person moves today.
	moved := before.Address
	moved.Street, moved.HouseNumber = "Attack Street", "1"
	status, body := tg.adminDo(t, "POST", "/admin/civil/events", map[string]any{"type": "address", "person": p, "date": today().String(), "address": moved})
	if status != 201 && status != 200 {
		t.Fatalf("change of address: %d %s", status, clip(body))
	}
	street := func(meta string) string {
		status, _, body := tg.dci(t, tok, search{criteria: byID("PN", p), meta: meta})
		if status != 200 {
			t.Fatalf("look-up with meta %s: %d %s", meta, status, clip(body))
		}
		recs := decodeAnswer(t, body).records(t)
		if len(recs) != 1 {
			t.Fatalf("look-up with meta %s: %d records", meta, len(recs))
		}
		addr, _ := recs[0]["address"].(map[string]any)
		s, _ := addr["street"].(string)
		return s
	}
	if got := street(""); got != "Attack Street" {
		t.Errorf("today's street %q; want the new one", got)
	}
	if got := street(onDate(yesterday)); got != before.Address.Street {
		t.Errorf("yesterday's street %q; want %q, where the person lived then", got, before.Address.Street)
	}
	if status, _, body := tg.dci(t, tok, search{criteria: byID("PN", p), meta: onDate(today().AddDays(-31))}); status != 403 {
		t.Errorf("31 days back with a look-back of 30: %d %s; want 403", status, clip(body))
	}
	if status, _, body := tg.dci(t, tok, search{criteria: byID("PN", p), meta: onDate(today().AddDays(1))}); status != 403 {
		t.Errorf("tomorrow: %d %s; want 403", status, clip(body))
	}
}

// A file that has ended still answers a question about a day it covered — after a
// restart too — and no longer a question about today.
func TestPastDayEndedFile(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	tok := tg.token(t, synth.PensionFund)
	s := tg.stranger(t, synth.PensionFund)
	a := tg.authorizationOf(t, synth.PensionFund, synth.CivilPerson)
	tg.setLookback(t, a, 365)
	end := today().AddDays(-100)
	csv := fmt.Sprintf("person,institution,capacity,begin,end\n%s,%s,%s,%s,%s\n", s, synth.PensionFund, synth.CapacityPensioner, end.AddDays(-200), end)
	if status, _, body := tg.do(t, "POST", "/admin/integrations", tg.admin, "text/csv", []byte(csv)); status != 200 {
		t.Fatalf("integrate: %d %s", status, clip(body))
	}
	ask := func(tg *target, tok string, d date.Date) int {
		status, _, _ := tg.dci(t, tok, search{criteria: byID("PN", s), meta: onDate(d)})
		return status
	}
	if got := ask(tg, tok, end.AddDays(-10)); got != 200 {
		t.Errorf("about a day the ended file covered: %d; want 200", got)
	}
	if got := ask(tg, tok, today()); got != 403 {
		t.Errorf("about today, the file ended: %d; want 403", got)
	}
	// Another hub on the same stores loads the directory afresh.
	tg.stop()
	tg2 := start(t, nil)
	testwait.For(t, 10*time.Second, func() error {
		if got := ask(tg2, tg2.token(t, synth.PensionFund), end.AddDays(-10)); got != 200 {
			return fmt.Errorf("after a restart, about a day the ended file covered: %d; want 200", got)
		}
		return nil
	})
}

// A source that cannot answer for a past day says so, instead of answering with today's
// data.
func TestPastDaySourceSaysSo(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	city := synth.CityPrefix + "R01"
	tok := tg.token(t, city)
	a := tg.authorizationOf(t, city, synth.SocialMember)
	tg.setLookback(t, a, 30)
	p := tg.files(t, city, today(), 1)[0].Person
	status, _, body := tg.dci(t, tok, search{registry: "sr", criteria: byID("UIN", p), meta: onDate(today().AddDays(-3))})
	if status == 200 && len(decodeAnswer(t, body).records(t)) > 0 {
		t.Errorf("social registry about a past day: %d %s; want an error, not today's record", status, clip(body))
	}
	if !strings.Contains(string(body), "today only") {
		t.Errorf("social registry about a past day: %s; want it to say it answers about today only", clip(body))
	}
}
