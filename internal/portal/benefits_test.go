package portal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/benefits"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/rights"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

const tariff = "social-energy-tariff" // granted by SOCIAL-REGISTRY in the demo catalogue

// appLogin logs the browser in as an institution's application (its secret issued
// here) on the professional page.
func (b *browser) appLogin(app string) string {
	b.t.Helper()
	secret, err := b.tg.st.Directory.IssueClientSecret(context.Background(), "test", app)
	if err != nil {
		b.t.Fatal(err)
	}
	b.get("/portal/pro")
	st, page := b.post("/portal/pro/login", url.Values{"client_id": {app}, "client_secret": {secret}})
	if st != http.StatusOK || !strings.Contains(page, `id="verify"`) {
		b.t.Fatalf("professional login as %s: %d %.500s", app, st, page)
	}
	return secret
}

// report sends the benefit form of the professional page.
func (b *browser) report(form url.Values) (int, string) {
	b.t.Helper()
	b.get("/portal/pro")
	return b.post("/portal/pro/benefit", form)
}

// grantedSince is the day the person's decision granting right took effect.
func (tg *target) grantedSince(t *testing.T, person, right string) date.Date {
	t.Helper()
	hist, err := tg.st.Civil.Rights().History(context.Background(), person)
	if err != nil {
		t.Fatal(err)
	}
	var mine []rights.Decision
	for _, d := range hist {
		if d.Right == right {
			mine = append(mine, d)
		}
	}
	d := mine[len(mine)-1]
	if !d.Holds() {
		t.Fatalf("%s does not hold %s", person, right)
	}
	return d.Effective
}

// without returns a living person who does not hold right.
func (tg *target) without(t *testing.T, right string) string {
	t.Helper()
	ps := tg.persons(t, 200, false)
	ds, err := tg.st.Civil.Rights().Current(context.Background(), ps)
	if err != nil {
		t.Fatal(err)
	}
	holds := map[string]bool{}
	for _, d := range ds {
		if d.Right == right && d.Holds() {
			holds[d.Person] = true
		}
	}
	for _, p := range ps {
		if !holds[p] {
			return p
		}
	}
	t.Fatalf("every person holds %s", right)
	return ""
}

// benefitRecords are the audit records of benefit reports naming person, once there
// are at least n (the log stores what it acknowledged a few milliseconds later).
func (tg *target) benefitRecords(t *testing.T, person string, n int) []audit.Record {
	t.Helper()
	var out []audit.Record
	testwait.For(t, 10*time.Second, func() error {
		entries, err := tg.st.Hub.Audit().ByPerson(context.Background(), person, 0, 1000)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, e := range entries {
			var r audit.Record
			if err := json.Unmarshal(e.Body, &r); err != nil {
				return err
			}
			if r.Service == benefits.AuditService && r.Institution != "SELF" {
				out = append(out, r)
			}
		}
		if len(out) < n {
			return fmt.Errorf("%d records of benefit reports naming the person; want %d", len(out), n)
		}
		return nil
	})
	return out
}

// A granting body reports through the professional page; every attempt that gets more
// than the catalogue and the decisions allow is refused, naming the field, and recorded
// under the person; the citizen sees the benefit on their statuses page, and no one
// else does.
func TestBenefitReportedAndSeen(t *testing.T) {
	t.Parallel()
	tg := start(t)
	holder, nobody := tg.holder(t, tariff, "", false), tg.without(t, tariff)
	since := tg.grantedSince(t, holder, tariff)
	form := func(person, right, ref string, from date.Date) url.Values {
		return url.Values{"action": {"report"}, "person": {person}, "right": {right}, "reference": {ref},
			"benefit": {"social tariff applied"}, "from": {from.String()}}
	}

	energy := tg.browser(t)
	energy.appLogin("social-registry-app")
	if _, page := energy.get("/portal/pro"); !strings.Contains(page, `<option value="`+tariff+`">`) {
		t.Fatalf("the granting body's page offers no report of %s: %.1500s", tariff, page)
	}
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		field  string
		person string
	}{
		{"a person without the right", form(nobody, tariff, "E-1", since), http.StatusUnprocessableEntity, "from", nobody},
		{"the day before the decision", form(holder, tariff, "E-2", since.AddDays(-1)), http.StatusUnprocessableEntity, "from", holder},
		{"a date that is no date", url.Values{"person": {holder}, "right": {tariff}, "reference": {"E-3"}, "benefit": {"x"}, "from": {"2026-02-30"}}, http.StatusBadRequest, "from", holder},
	} {
		n := len(tg.benefitRecords(t, c.person, 0))
		st, page := energy.report(c.form)
		if st != c.status || !strings.Contains(page, `id="benefit-field">`+c.field+`<`) {
			t.Errorf("%s: %d; want %d naming %s: %.600s", c.name, st, c.status, c.field, page)
		}
		if recs := tg.benefitRecords(t, c.person, n+1); recs[len(recs)-1].Decision == audit.Permit {
			t.Errorf("%s: not recorded as refused under the person (%d records)", c.name, len(recs))
		}
	}

	// Another institution reports the tariff, a right it does not grant (the form does
	// not offer it: the request is forged).
	insurer := tg.browser(t)
	insurer.appLogin("health-insurer-1-app")
	if _, page := insurer.get("/portal/pro"); strings.Contains(page, `<option value="`+tariff+`">`) {
		t.Error("the insurer is offered the tariff, which it does not grant")
	}
	st, page := insurer.report(form(holder, tariff, "H-1", since))
	if st != http.StatusForbidden || !strings.Contains(page, `id="benefit-field">right<`) {
		t.Errorf("another institution's report of the tariff: %d; want 403 naming right: %.600s", st, page)
	}
	if recs := tg.benefitRecords(t, holder, 3); recs[len(recs)-1].Institution != "HEALTH-INSURER-1" || recs[len(recs)-1].Decision == audit.Permit {
		t.Errorf("the insurer's attempt is not recorded as refused under the person: %+v", recs)
	}
	// Its own right, for a person who does not hold it.
	if st, page := insurer.report(form(tg.without(t, "increased-reimbursement"), "increased-reimbursement", "H-2", since)); st != http.StatusUnprocessableEntity ||
		!strings.Contains(page, `id="benefit-field">from<`) {
		t.Errorf("the insurer's own right for a person without it: %d; want 422 naming from", st)
	}

	// CSRF: no token, another session's token, a cross-site form; nothing is stored.
	for name, send := range map[string]func() int{
		"no token": func() int {
			st, _ := energy.post("/portal/pro/benefit", url.Values{"csrf": {""}, "person": {holder}})
			return st
		},
		"another session's token": func() int {
			st, _ := energy.post("/portal/pro/benefit", url.Values{"csrf": {insurer.csrf}, "person": {holder}})
			return st
		},
		"cross-site": func() int {
			energy.get("/portal/pro")
			f := form(holder, tariff, "X-1", since)
			f.Set("csrf", energy.csrf)
			req, _ := http.NewRequest(http.MethodPost, tg.url+"/portal/pro/benefit", strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			st, _, _ := energy.do(req)
			return st
		},
	} {
		if st := send(); st != http.StatusForbidden {
			t.Errorf("%s: %d; want 403", name, st)
		}
	}
	// A citizen's session cannot report.
	citizen := tg.browser(t)
	citizen.login(holder)
	citizen.get("/portal/statuses")
	if st, page := citizen.post("/portal/pro/benefit", form(holder, tariff, "C-1", since)); st != http.StatusOK || strings.Contains(page, `id="benefit-result"`) {
		t.Errorf("a citizen's report: %d; want the professional login page", st)
	}
	if mine, _ := tg.st.Civil.Benefits().ByPerson(context.Background(), holder); len(mine) != 0 {
		t.Fatalf("refused reports were stored: %+v", mine)
	}

	// The report, then the same again (nothing stored), then its end.
	st, page = energy.report(form(holder, tariff, "R-42", since))
	if st != http.StatusOK || !strings.Contains(page, `id="benefit-ref">R-42<`) {
		t.Fatalf("the report: %d %.800s", st, page)
	}
	if _, page := energy.report(form(holder, tariff, "R-42", since)); !strings.Contains(page, "Already recorded") {
		t.Errorf("the same report again: %.600s", page)
	}
	until := date.FromTime(time.Now()).AddDays(90)
	if st, page := energy.report(url.Values{"action": {"end"}, "reference": {"R-42"}, "until": {until.String()}}); st != http.StatusOK || !strings.Contains(page, "end") {
		t.Errorf("the end: %d %.600s", st, page)
	}
	if all, _ := tg.st.Civil.Benefits().ByPerson(context.Background(), holder); len(all) != 2 {
		t.Errorf("history: %d versions; want the report and its end", len(all))
	}

	// The citizen sees it under the right, with who reported it; no one else does.
	_, page = citizen.get("/portal/statuses")
	card := section(page, `data-status="right:`+tariff+`"`, "</li>\n</ul>")
	if !strings.Contains(card, `data-reference="R-42"`) || !strings.Contains(card, `<span class="reporter">SOCIAL-REGISTRY</span>`) ||
		!strings.Contains(card, until.String()) {
		t.Errorf("the statuses page does not show the benefit under the right: %.2000s", card)
	}
	other := tg.browser(t)
	other.login(nobody)
	for _, path := range []string{"/portal/statuses", "/portal/statuses?person=" + holder, "/portal/data?person=" + holder, "/portal/consultations?person=" + holder} {
		if _, page := other.get(path); strings.Contains(page, "R-42") || strings.Contains(page, holder) {
			t.Errorf("%s shows another person's benefit or number", path)
		}
	}
	// A forged session cookie, and the holder's own cookie value sent under another
	// name, show nothing of theirs.
	forged := tg.browser(t)
	u, _ := url.Parse(tg.url + "/portal/")
	forged.c.Jar.SetCookies(u, []*http.Cookie{{Name: "crossroads_portal", Value: strings.Repeat("B", 43)}, {Name: "person", Value: holder}})
	for _, path := range []string{"/portal/statuses", "/portal/data"} {
		if _, page := forged.get(path); strings.Contains(page, "R-42") || strings.Contains(page, "benefit") || strings.Contains(page, `id="who"`) {
			t.Errorf("%s with a forged cookie shows a person's page", path)
		}
	}
	// Who consulted my data: the reports about the citizen, refused ones too.
	if _, page := citizen.get("/portal/consultations"); strings.Count(page, "HEALTH-INSURER-1") == 0 || !strings.Contains(page, "SOCIAL-REGISTRY") {
		t.Errorf("who consulted my data does not show the reports and attempts: %.1500s", page)
	}
	if strings.Contains(tg.log.String(), holder) {
		t.Error("a person number is in the hub's log")
	}
}

// section is the part of page from the first from to the next to.
func section(page, from, to string) string {
	i := strings.Index(page, from)
	if i < 0 {
		return ""
	}
	j := strings.Index(page[i:], to)
	if j < 0 {
		return page[i:]
	}
	return page[i : i+j]
}

// The API: an application reports with its access token; no token, a token of another
// institution, a malformed body are refused and recorded.
func TestBenefitAPI(t *testing.T) {
	t.Parallel()
	tg := start(t)
	holder := tg.holder(t, tariff, "", false)
	since := tg.grantedSince(t, holder, tariff)
	body := `{"person":"` + holder + `","right":"` + tariff + `","reference":"API-1","benefit":"social tariff applied","from":"` + since.String() + `"}`
	post := func(token, body string) (int, string, string) {
		req, _ := http.NewRequest(http.MethodPost, tg.url+"/benefits", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, resp.Header.Get("X-Audit-Records"), b.String()
	}
	energy, insurer := tg.token(t, "social-registry-app"), tg.token(t, "health-insurer-1-app")
	if st, seq, _ := post("", body); st != http.StatusUnauthorized || seq == "" {
		t.Errorf("no token: %d (record %q); want 401, recorded", st, seq)
	}
	if st, seq, b := post(insurer, body); st != http.StatusForbidden || seq == "" || !strings.Contains(b, `"field": "right"`) {
		t.Errorf("another institution: %d (record %q) %s; want 403 naming right, recorded", st, seq, b)
	}
	if st, _, b := post(energy, `{"person":"`+holder+`","surprise":1}`); st != http.StatusBadRequest || !strings.Contains(b, `"field": "body"`) {
		t.Errorf("an unknown member: %d %s; want 400 naming body", st, b)
	}
	st, seq, b := post(energy, body)
	var res benefits.Result
	if st != http.StatusCreated || seq == "" || json.Unmarshal([]byte(b), &res) != nil || res.Report.Version != 1 {
		t.Fatalf("the report: %d %s", st, b)
	}
	if st, _, b := post(energy, body); st != http.StatusOK || !strings.Contains(b, `"again": true`) {
		t.Errorf("the same report again: %d %s; want 200, again", st, b)
	}
	tg.benefitRecords(t, holder, 4) // the 401, the 403, the report, the same again
}

// token is an access token of the application (its secret issued here).
func (tg *target) token(t *testing.T, app string) string {
	t.Helper()
	secret, err := tg.st.Directory.IssueClientSecret(context.Background(), "test", app)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(tg.url+"/oauth2/client/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {app}, "client_secret": {secret}})
	if err != nil {
		t.Fatal(err)
	}
	return tokenOf(t, resp)
}

// tokenOf reads the access token of a token endpoint's answer.
func tokenOf(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}
