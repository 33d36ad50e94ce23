package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bank"
	"github.com/crossroads-hub/crossroads/internal/g2p"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

func (r *running) g2p(t *testing.T, method, path, token, ctype, body string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, r.url+path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// candidates picks likely eligible persons of the test's nation before its hub starts.
func candidates(t *testing.T, n int) []string {
	t.Helper()
	ctx := context.Background()
	cfg := config(testNation(t))
	st, err := hub.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	g, err := hub.OpenG2P(ctx, cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(ctx)
	cs, err := g.Candidates(ctx, st.Civil.Population(), n)
	if err != nil || len(cs) < n {
		t.Fatalf("candidates: %v, %v", cs, err)
	}
	return cs
}

// TestG2PRoutes: an applicant registers through the API with the code of the demo's
// outbox; the programme office resolves its beneficiary through the mapper, never
// another person, and every refusal is recorded; the outbox is the office's only.
func TestG2PRoutes(t *testing.T) {
	t.Parallel()
	cs := candidates(t, 4)
	r := startHubWith(t, func(c *hub.Config) { c.G2P = true })
	person := cs[0]
	acct, _ := bank.DemoAccount(person)
	app := fmt.Sprintf(`{"person":%q,"mobile":%q,"account":%q}`, person, g2p.Mobile(person), acct.Print())
	// Without the office's token nobody starts a registration (an outsider did, for
	// anybody's number and his own mobile, and read the person's eligibility).
	if status, _, body := r.g2p(t, "POST", "/g2p/registrations", "", "application/json", app); status != http.StatusUnauthorized || strings.Contains(string(body), "eligib") {
		t.Errorf("start without a token: %d %s; want 401 and nothing about the person", status, body)
	}
	status, _, body := r.g2p(t, "POST", "/g2p/registrations", r.admin, "application/json", app)
	if status != http.StatusCreated {
		t.Fatalf("start: %d %s", status, body)
	}
	var reg g2p.Registration
	json.Unmarshal(body, &reg)
	if strings.Contains(string(body), string(acct)) || strings.Contains(string(body), g2p.Mobile(person)) {
		t.Errorf("the registration shows the account or the number: %s", body)
	}
	// The state of a registration names the person and the decision: the office's only
	// (outsider finding: read without a token).
	if status, _, body := r.g2p(t, "GET", "/g2p/registrations/"+reg.ID, "", "", ""); status != http.StatusUnauthorized || strings.Contains(string(body), person) {
		t.Errorf("a registration's state without a token: %d %s; want 401, the person not named", status, body)
	}
	if status, _, body := r.g2p(t, "GET", "/g2p/registrations/"+reg.ID, r.admin, "", ""); status != 200 || !strings.Contains(string(body), person) {
		t.Errorf("a registration's state with the office's token: %d %s", status, body)
	}
	if status, _, _ := r.g2p(t, "GET", "/g2p/outbox", "", "", ""); status != http.StatusUnauthorized {
		t.Errorf("outbox without a token: %d", status)
	}
	status, _, body = r.g2p(t, "GET", "/g2p/outbox", r.admin, "", "")
	var box struct{ Messages []g2p.Message }
	json.Unmarshal(body, &box)
	if status != 200 || len(box.Messages) == 0 {
		t.Fatalf("outbox: %d %s", status, body)
	}
	text := box.Messages[len(box.Messages)-1].Text
	i := strings.Index(text, "code is ")
	code := text[i+8 : i+14]
	// Bad input: a code of letters, an unknown registration.
	if status, _, body := r.g2p(t, "POST", "/g2p/registrations/"+reg.ID+"/code", "", "application/json", `{"code":"abc"}`); status != 400 || !strings.Contains(string(body), "code") {
		t.Errorf("short code: %d %s", status, body)
	}
	if status, _, _ := r.g2p(t, "POST", "/g2p/registrations/reg-nope/code", "", "application/json", `{"code":"123456"}`); status != 404 {
		t.Errorf("unknown registration: %d", status)
	}
	// A wrong code is a refusal with its status and the problem body of every API, not
	// a 200 (outsider finding).
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	if status, h, body := r.g2p(t, "POST", "/g2p/registrations/"+reg.ID+"/code", "", "application/json", fmt.Sprintf(`{"code":%q}`, wrong)); status != http.StatusForbidden ||
		!strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") || !strings.Contains(string(body), "tries left") {
		t.Errorf("wrong code: %d %s %s; want 403, a problem saying the tries left", status, h.Get("Content-Type"), body)
	}
	status, _, body = r.g2p(t, "POST", "/g2p/registrations/"+reg.ID+"/code", "", "application/json", fmt.Sprintf(`{"code":%q}`, code))
	json.Unmarshal(body, &reg)
	if status != 200 || reg.Status != g2p.Registered {
		t.Fatalf("confirm: %d %s", status, body)
	}
	// Registering her again: "already registered", nothing created, no code sent.
	status, _, body = r.g2p(t, "POST", "/g2p/registrations", r.admin, "application/json", app)
	if status != http.StatusOK || !strings.Contains(string(body), g2p.AlreadyRegistered) {
		t.Errorf("register again: %d %s; want 200 %s", status, body, g2p.AlreadyRegistered)
	}
	// The mapper: the office's own beneficiary, yes/no unless details are asked.
	resolve := func(scope string, persons ...string) (int, http.Header, []byte) {
		var items []string
		for i, p := range persons {
			items = append(items, fmt.Sprintf(`{"reference_id":"r%d","timestamp":"2026-12-07T10:00:00Z","id":%q,"scope":%q}`, i, g2p.PersonID(p), scope))
		}
		return r.g2p(t, "POST", "/g2p/mapper/sync/resolve", r.admin, "application/json",
			`{"header":{},"message":{"transaction_id":"T1","resolve_request":[`+strings.Join(items, ",")+`]}}`)
	}
	status, h, body := resolve("yes_no", person)
	if status != 200 || strings.Contains(string(body), string(acct)) || !strings.Contains(string(body), "succ.fa.active") || h.Get("X-Audit-Records") == "" {
		t.Errorf("resolve yes_no: %d %s", status, body)
	}
	status, _, body = resolve("details", person)
	if status != 200 || !strings.Contains(string(body), "iban:"+string(acct)) {
		t.Errorf("resolve details: %d %s", status, body)
	}
	// An unknown scope is refused, naming it (outsider finding: silently yes_no).
	if status, _, body := resolve("everything", person); status != 400 || !strings.Contains(string(body), "scope") {
		t.Errorf("resolve with an unknown scope: %d %s; want 400 naming scope", status, body)
	}
	// An account of another bank, or a malformed address, is refused item by item
	// (outsider finding: the bank part was ignored).
	for _, fa := range []string{"iban:" + string(acct) + "@evil-bank", "iban:" + string(acct) + "@", "iban:" + string(acct) + "@demo-bank@x", "iban:" + string(acct) + "@" + strings.Repeat("x", 5000)} {
		status, _, body := r.g2p(t, "POST", "/g2p/mapper/sync/update", r.admin, "application/json",
			fmt.Sprintf(`{"message":{"transaction_id":"T3","update_request":[{"reference_id":"r1","timestamp":"2026-12-07T10:00:00Z","id":%q,"fa":%q}]}}`, g2p.PersonID(person), fa))
		if status != 200 || !strings.Contains(string(body), "rjct.fa.invalid") || strings.Contains(string(body), `"succ"`) {
			t.Errorf("update to %q: %d %.300s; want rjct.fa.invalid", fa[:min(len(fa), 60)], status, body)
		}
	}
	// Attack: another person, alone or hidden among the office's own.
	for _, ask := range [][]string{{cs[1]}, {person, cs[1]}} {
		status, h, body := resolve("details", ask...)
		if status != http.StatusForbidden || strings.Contains(string(body), "iban:") || h.Get("X-Audit-Records") == "" {
			t.Errorf("resolve %v: %d %s (audit %q)", ask, status, body, h.Get("X-Audit-Records"))
		}
	}
	// A fourth applicant knows no person number: found through the hub by full name and
	// birth date. A name with a wildcard, a partial name, an unknown one: refused, with
	// what to do, and no candidate named.
	byName, err := r.st.Civil.Population().Person(context.Background(), cs[3])
	if err != nil {
		t.Fatal(err)
	}
	nacct, _ := bank.DemoAccount(cs[3])
	named := func(name, birth string) (int, []byte) {
		status, _, body := r.g2p(t, "POST", "/g2p/registrations", r.admin, "application/json",
			fmt.Sprintf(`{"name":%q,"birth_date":%q,"mobile":%q,"account":%q}`, name, birth, g2p.Mobile(cs[3]), nacct))
		return status, body
	}
	full, birth := byName.GivenName+" "+byName.FamilyName, byName.BirthDate.String()
	if status, body := named(full, birth); status != http.StatusCreated || !strings.Contains(string(body), cs[3]) {
		t.Errorf("by name: %d %s; want 201 naming %s", status, body, cs[3])
	}
	for _, c := range []struct {
		name, birth string
		status      int
	}{
		{byName.GivenName + " *", birth, 400},
		{byName.GivenName + " %", birth, 400},
		{byName.GivenName, birth, 400},
		{byName.GivenName[:len(byName.GivenName)-1] + " " + byName.FamilyName, birth, 404},
		{full, "1900-01-01", 404},
	} {
		status, body := named(c.name, c.birth)
		if status != c.status || strings.Contains(string(body), `"person"`+":") || strings.Contains(string(body), cs[3]) {
			t.Errorf("by name %q %s: %d %s; want %d naming nobody", c.name, c.birth, status, body, c.status)
		}
	}
	// A third beneficiary, registered by the office, dies before the payment: the hub's
	// mutations machinery delivers the death to the SP-MIS, which ends the right before
	// the cycle (not the day-before re-check: the right is ended before it runs).
	dying := cs[2]
	dacct, _ := bank.DemoAccount(dying)
	status, _, body = r.g2p(t, "POST", "/g2p/registrations/batch", r.admin, "application/x-ndjson",
		fmt.Sprintf(`{"person":%q,"mobile":%q,"account":%q}`, dying, g2p.Mobile(dying), dacct))
	if status != 200 || !strings.Contains(string(body), `"registered"`) {
		t.Fatalf("register %s: %d %s", dying, status, body)
	}
	// A CSV file of applicants: a bad line is its verdict, a bad header refuses the file.
	status, _, body = r.g2p(t, "POST", "/g2p/registrations/batch", r.admin, "text/csv", "person,name,birth_date,mobile,account\nbad\n")
	if status != 200 || !strings.Contains(string(body), `"line": 2`) || !strings.Contains(string(body), "values") {
		t.Errorf("a CSV file with a bad line: %d %s", status, body)
	}
	if status, _, body := r.g2p(t, "POST", "/g2p/registrations/batch", r.admin, "text/csv", "person,iban\n"); status != 400 || !strings.Contains(string(body), "header") {
		t.Errorf("a CSV file with a bad header: %d %s", status, body)
	}
	// The mapper's link in bulk: a person not on the list is refused, item by item.
	status, _, body = r.g2p(t, "POST", "/g2p/mapper/sync/link", r.admin, "application/json",
		fmt.Sprintf(`{"message":{"transaction_id":"T2","link_request":[{"reference_id":"r1","timestamp":"2026-12-07T10:00:00Z","id":%q,"fa":%q},{"reference_id":"r2","timestamp":"2026-12-07T10:00:00Z","id":"pn:x","fa":"x"}]}}`,
			g2p.PersonID(cs[1]), "iban:"+string(dacct)+"@demo-bank"))
	if status != 200 || strings.Count(string(body), "rjct.id.invalid") != 2 {
		t.Errorf("mapper link of persons not on the list: %d %s", status, body)
	}
	// Dated before her registration (recorded late, or a registration by a person
	// already dead): delivered all the same, the right ended (outsider finding).
	today := r.st.Directory.Today()
	if status, _, body := r.g2p(t, "POST", "/admin/civil/events", r.admin, "application/json", `{"type":"death","person":"`+dying+`","date":"`+today.AddDays(-37).String()+`"}`); status != 201 {
		t.Fatalf("the death: %d %s", status, body)
	}
	testwait.For(t, 30*time.Second, func() error {
		_, _, body := r.g2p(t, "GET", "/g2p/beneficiaries/"+dying, r.admin, "", "")
		if !strings.Contains(string(body), g2p.DeathReason) {
			return fmt.Errorf("the beneficiary: %s", body)
		}
		return nil
	})
	// A pay day outside this month's and next month's cycles, or no day: refused, naming
	// the field (outsider finding: a century ahead instructed every beneficiary).
	for _, bad := range []string{`"2126-01-25"`, `"1999-01-25"`, `"` + today.AddDays(-62).String() + `"`, `"` + today.AddDays(100).String() + `"`, `"garbage"`, `""`} {
		if status, _, body := r.g2p(t, "POST", "/g2p/cycles", r.admin, "application/json", `{"pay_day":`+bad+`}`); status != 400 || !strings.Contains(string(body), "pay_day") {
			t.Errorf("a cycle paid on %s: %d %s; want 400 naming pay_day", bad, status, body)
		}
	}
	// A cycle and its statement through the API.
	payDay := (&g2p.Programme{PayDay: 25}).NextPayDay(today) // the demo's programme pays on the 25th
	cycle := g2p.Cycle(payDay)
	status, _, body = r.g2p(t, "POST", "/g2p/cycles", r.admin, "application/json", `{"pay_day":"`+payDay.String()+`"}`)
	var rep g2p.CycleReport
	json.Unmarshal(body, &rep)
	if status != 200 || rep.Accepted != 1 || rep.Listed != 1 || rep.Deceased != 0 {
		t.Fatalf("cycle: %d %s; want her alone listed and paid, the dead already off the list", status, body)
	}
	if !strings.Contains(string(body), `"pay_day"`) || strings.Contains(string(body), "PayDay") {
		t.Errorf("the cycle's answer mixes JSON styles: %s", body)
	}
	stmt := "statement,account,end_to_end_id,bank_ref,payee,amount,currency,booked,status,reason\n" +
		fmt.Sprintf("S1,%s,OAA-%s-%s,B1,%s,250.00,XCD,%s,booked,\n", bank.ProgrammeAccount(), cycle, person, acct, payDay)
	status, _, body = r.g2p(t, "POST", "/g2p/cycles/"+cycle+"/statements", r.admin, "text/csv", stmt)
	if status != 200 || !strings.Contains(string(body), `"paid": 1`) {
		t.Errorf("statement: %d %s", status, body)
	}
	if status, _, _ := r.g2p(t, "POST", "/g2p/cycles/"+cycle+"/statements", r.admin, "application/pdf", stmt); status != http.StatusUnsupportedMediaType {
		t.Errorf("a PDF statement: %d", status)
	}
	if status, _, _ := r.g2p(t, "POST", "/g2p/cycles", "", "application/json", `{"pay_day":"`+payDay.String()+`"}`); status != http.StatusUnauthorized {
		t.Errorf("a cycle without a token: %d", status)
	}
}
