package portal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/portal"
)

var (
	codeRE = regexp.MustCompile(`id="proof-code">([^<]+)<`)
	jwtRE  = regexp.MustCompile(`id="jwt" readonly rows="6">([^<]+)<`)
	seqRE  = regexp.MustCompile(`/portal/consultations/(\d+)/evidence`)
)

// prove creates a proof of the old-age pension for the logged-in citizen.
func (b *browser) prove() (code, jwt string) {
	b.t.Helper()
	b.get("/portal/proof")
	st, page := b.post("/portal/proof", url.Values{"status": {"programme:old-age-pension"}})
	c, j := codeRE.FindStringSubmatch(page), jwtRE.FindStringSubmatch(page)
	if st != http.StatusOK || c == nil || j == nil {
		b.t.Fatalf("create a proof: %d %.800s", st, page)
	}
	return c[1], j[1]
}

func (b *browser) verify(field, value string) (int, string) {
	b.t.Helper()
	b.get("/portal/pro")
	return b.post("/portal/pro/verify", url.Values{field: {value}})
}

// The whole path: log in, see a status, prove it, have it checked by code and by
// credential, and see both checks, and the refused one, among "who consulted my data",
// each with evidence.
func TestProveAndSeeTheChecks(t *testing.T) {
	t.Parallel()
	tg := start(t)
	person := tg.persons(t, 1, true)[0]
	citizen := tg.browser(t)
	citizen.login(person)
	if _, page := citizen.get("/portal/statuses"); !strings.Contains(page, `data-status="programme:old-age-pension"`) {
		t.Fatalf("the statuses page does not show the old-age pension: %.1000s", page)
	}
	code, jwt := citizen.prove()
	if len(jwt) > 1024 {
		t.Errorf("credential of %d bytes; want ≤ 1 KiB", len(jwt))
	}
	if _, png := citizen.get("/portal/proof/qr.png"); !strings.HasPrefix(png, "\x89PNG") {
		t.Error("the QR code is not a PNG")
	}
	pro := tg.browser(t)
	pro.proLogin()
	for _, tc := range []struct{ field, value string }{{"code", code}, {"code", strings.ToLower(code)}, {"credential", jwt}} {
		if st, page := pro.verify(tc.field, tc.value); st != http.StatusOK || !strings.Contains(page, "verdict valid") {
			t.Errorf("verify by %s: %d %.600s", tc.field, st, page)
		} else if strings.Contains(page, person) {
			t.Errorf("the verifier was shown the person number")
		}
	}
	if _, page := pro.verify("code", "AAAAA-AAAAA"); !strings.Contains(page, "verdict invalid") {
		t.Errorf("a wrong code was not refused: %.600s", page)
	}
	_, page := citizen.get("/portal/consultations")
	if n := strings.Count(page, "<td>MUSEUM</td>"); n != 3 {
		t.Errorf("who consulted my data shows %d checks by the museum; want 3", n)
	}
	if !strings.Contains(page, "You, through this portal") {
		t.Error("the citizen's own readings are not shown as theirs")
	}
	seqs := seqRE.FindAllStringSubmatch(page, -1)
	if len(seqs) == 0 {
		t.Fatal("no evidence link")
	}
	st, ev := citizen.get(seqs[0][0])
	var e struct {
		Seq    int64  `json:"seq"`
		Record []byte `json:"record"`
	}
	if st != http.StatusOK || json.Unmarshal([]byte(ev), &e) != nil || !strings.Contains(string(e.Record), person) {
		t.Errorf("evidence: %d %.300s", st, ev)
	}
}

// A citizen never sees another person's data: the session says who they are, and
// whatever ids they change in URLs and forms, they get their own data or nothing.
func TestNoOtherPersonsData(t *testing.T) {
	t.Parallel()
	tg := start(t)
	ps := tg.persons(t, 2, true)
	alice, bob := tg.browser(t), tg.browser(t)
	alice.login(ps[0])
	bob.login(ps[1])
	bob.get("/portal/data") // leaves records about bob
	_, bobs := bob.get("/portal/consultations")
	bobSeqs := seqRE.FindAllStringSubmatch(bobs, -1)
	if len(bobSeqs) == 0 {
		t.Fatal("bob has no records")
	}
	for _, s := range bobSeqs {
		if st, body := alice.get(s[0]); st != http.StatusNotFound || strings.Contains(body, ps[1]) {
			t.Errorf("alice got bob's evidence %s: %d", s[0], st)
		}
	}
	for _, path := range []string{
		"/portal/data?person=" + ps[1], "/portal/statuses?person=" + ps[1], "/portal/consultations?person=" + ps[1],
		"/portal/statuses?date=2026-01-01&person=" + ps[1], "/portal/data/" + ps[1], "/portal/consultations/0/evidence",
		"/portal/consultations/-1/evidence", "/portal/consultations/99999999/evidence", "/portal/consultations/x/evidence",
	} {
		if _, body := alice.get(path); strings.Contains(body, ps[1]) {
			t.Errorf("GET %s shows bob's person number to alice", path)
		}
	}
	// The audit API's person view is the administrator's.
	if st, body := alice.get("/audit/persons/" + ps[1] + "/exchanges"); st != http.StatusUnauthorized && st != http.StatusForbidden {
		t.Errorf("GET /audit/persons/{bob}/exchanges without a token: %d %.200s", st, body)
	}
	// A proof is made for the session's person whatever the form says.
	if st, page := alice.post("/portal/proof", url.Values{"status": {"programme:old-age-pension"}, "person": {ps[1]}}); st != http.StatusOK || strings.Contains(page, ps[1]) {
		t.Errorf("proof with bob's number in the form: %d", st)
	}
	// No session, a forged one, a logged-out one: the login page.
	anon := tg.browser(t)
	for _, path := range []string{"/portal/data", "/portal/consultations", "/portal/proof", "/portal/proof/qr.png"} {
		if _, body := anon.get(path); !strings.Contains(body, `id="login-eid"`) {
			t.Errorf("GET %s without a session did not lead to the login", path)
		}
	}
	u, _ := url.Parse(tg.url)
	anon.c.Jar.SetCookies(u, []*http.Cookie{{Name: "crossroads_portal", Value: strings.Repeat("A", 43)}})
	if _, body := anon.get("/portal/data"); strings.Contains(body, ps[0]) || strings.Contains(body, ps[1]) {
		t.Error("a forged session cookie showed someone's data")
	}
	alice.post("/portal/logout", url.Values{})
	if _, body := alice.get("/portal/data"); !strings.Contains(body, `id="login-eid"`) {
		t.Error("after logout, the data page still shows")
	}
	// No person number in the log (the demo's code sender writes the last four digits).
	for _, line := range strings.Split(tg.log.String(), "\n") {
		if strings.Contains(line, ps[0]) || strings.Contains(line, ps[1]) {
			t.Errorf("a person number is in the hub's log: %.400s", line)
		}
	}
}

// Forms without the session's CSRF token are refused.
func TestCSRF(t *testing.T) {
	t.Parallel()
	tg := start(t)
	person := tg.persons(t, 1, true)[0]
	alice, mallory := tg.browser(t), tg.browser(t)
	alice.login(person)
	mallory.get("/portal/")
	for _, csrf := range []string{"", "x", mallory.csrf} {
		if st, _ := alice.post("/portal/proof", url.Values{"csrf": {csrf}, "status": {"programme:old-age-pension"}}); st != http.StatusForbidden {
			t.Errorf("POST /portal/proof with CSRF token %q: %d; want 403", csrf, st)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, tg.url+"/portal/logout", strings.NewReader("csrf="+alice.csrf))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if st, _, page := alice.do(req); st != http.StatusForbidden || !strings.Contains(page, html.EscapeString(portal.T("en", "error.crosssite"))) {
		t.Errorf("a cross-site POST: %d %.300s; want 403 saying the form came from another site", st, section(page, "<main", "</main>"))
	}
}

// Codes cannot be guessed: after ten wrong ones a verifier is refused, even the right
// code, and every attempt is in the audit log.
func TestCodeBruteForce(t *testing.T) {
	t.Parallel()
	tg := start(t)
	person := tg.persons(t, 1, true)[0]
	citizen := tg.browser(t)
	citizen.login(person)
	code, _ := citizen.prove()
	pro := tg.browser(t)
	pro.proLogin()
	for i := range 10 {
		if st, page := pro.verify("code", strings.Repeat(string("0123456789"[i]), 10)); st != http.StatusOK || !strings.Contains(page, "verdict invalid") {
			t.Fatalf("wrong code %d: %d", i, st)
		}
	}
	if st, _ := pro.verify("code", code); st != http.StatusTooManyRequests {
		t.Errorf("the right code after ten wrong ones: %d; want 429", st)
	}
	// Another verifier's address is the same here (loopback): also refused.
	other := tg.browser(t)
	other.proLogin()
	if st, _ := other.verify("code", code); st != http.StatusTooManyRequests {
		t.Errorf("the same address after ten wrong codes: %d; want 429", st)
	}
}

// A forged or expired credential is refused by the verifier's page.
func TestForgedCredential(t *testing.T) {
	t.Parallel()
	tg := start(t)
	person := tg.persons(t, 1, true)[0]
	citizen := tg.browser(t)
	citizen.login(person)
	_, jwt := citizen.prove()
	parts := strings.Split(jwt, ".")
	pro := tg.browser(t)
	pro.proLogin()
	// Each refusal says what is wrong.
	for _, tc := range []struct{ name, tok, key string }{
		{"payload of another", parts[0] + "." + parts[1][:len(parts[1])-4] + "AAAA." + parts[2], "error.cred.signature"},
		{"no signature", parts[0] + "." + parts[1] + ".", "error.cred.signature"},
		{"alg none", "eyJhbGciOiJub25lIiwia2lkIjoieCIsInR5cCI6InZjK2p3dCJ9." + parts[1] + ".", "error.cred.signature"},
		{"junk", "not a credential", "error.cred.malformed"},
	} {
		_, page := pro.verify("credential", tc.tok)
		if !strings.Contains(page, "verdict invalid") {
			t.Errorf("%s: not refused", tc.name)
		}
		if want := html.EscapeString(portal.T("en", tc.key)); !strings.Contains(page, want) {
			t.Errorf("%s: the page does not say %q: %.600s", tc.name, want, section(page, `id="verdict"`, "</div>"))
		}
	}
	// An empty form checks nothing, and says so.
	if _, page := pro.verify("code", ""); !strings.Contains(page, html.EscapeString(portal.T("en", "error.empty"))) {
		t.Errorf("an empty form: %.600s", section(page, `id="verdict"`, "</div>"))
	}
	var jwks jose.JSONWebKeySet
	_, body := pro.get("/.well-known/jwks.json")
	if err := json.Unmarshal([]byte(body), &jwks); err != nil {
		t.Fatal(err)
	}
	if _, err := portal.VerifyCredential(jwt, jwks, tg.url, time.Now()); err != nil {
		t.Errorf("offline verification with the published keys: %v", err)
	}
	if _, err := portal.VerifyCredential(jwt, jwks, tg.url, time.Now().Add(25*time.Hour)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("a credential 25 hours later: %v; want expired", err)
	}
}

// The one-time-code login: the code (written to the log by the demo's sender) logs in;
// five wrong codes end the attempt.
func TestCodeLogin(t *testing.T) {
	t.Parallel()
	tg := start(t)
	ps := tg.persons(t, 2, false)
	b := tg.browser(t)
	b.get("/portal/")
	if st, page := b.post("/portal/login/code", url.Values{"person": {ps[0]}}); st != http.StatusOK || !strings.Contains(page, `id="code"`) {
		t.Fatalf("send a code: %d %.300s", st, page)
	}
	m := regexp.MustCompile(`"code":"(\d{6})"`).FindStringSubmatch(tg.log.String())
	if m == nil {
		t.Fatal("no code in the demo's log")
	}
	if st, page := b.post("/portal/login/code/check", url.Values{"code": {m[1]}}); st != http.StatusOK || !strings.Contains(page, `id="who"`) {
		t.Fatalf("log in with the code: %d %.300s", st, page)
	}
	g := tg.browser(t)
	g.get("/portal/")
	g.post("/portal/login/code", url.Values{"person": {ps[1]}})
	var last int
	for range 6 {
		last, _ = g.post("/portal/login/code/check", url.Values{"code": {"000000"}})
	}
	if last != http.StatusTooManyRequests && last != http.StatusBadRequest {
		t.Errorf("the sixth wrong code: %d; want the attempt ended", last)
	}
}

// Pages follow the browser's language and the switch.
func TestLanguages(t *testing.T) {
	t.Parallel()
	tg := start(t)
	b := tg.browser(t)
	req, _ := http.NewRequest(http.MethodGet, tg.url+"/portal/", nil)
	req.Header.Set("Accept-Language", "fr-BE,fr;q=0.9")
	if _, _, page := b.do(req); !strings.Contains(page, `lang="fr"`) || !strings.Contains(page, "Se connecter") {
		t.Errorf("Accept-Language fr: not French")
	}
	if _, page := b.get("/portal/?lang=en"); !strings.Contains(page, `<html lang="en">`) {
		t.Error("the switch to English did not take")
	}
	if _, _, page := b.do(req); !strings.Contains(page, `<html lang="en">`) {
		t.Error("the language chosen with the switch was not remembered over Accept-Language")
	}
}

// Failed professional logins are limited as the token endpoint's are (the README): ten
// a minute per client id, fifty per address. Twelve wrong secrets for the museum stop
// the museum — its right secret too — and not the other applications logging in from
// the same address; the refusals are logged. Fifty failures stop the address.
func TestProLoginLimits(t *testing.T) {
	t.Parallel()
	tg := start(t)
	ctx := context.Background()
	login := func(b *browser, client, secret string) (int, string) {
		b.t.Helper()
		b.get("/portal/pro")
		return b.post("/portal/pro/login", url.Values{"client_id": {client}, "client_secret": {secret}})
	}
	mallory := tg.browser(t)
	for i := range 12 {
		st, _ := login(mallory, "museum-app", fmt.Sprintf("wrong-%d", i))
		if want := http.StatusUnauthorized; i < 10 && st != want || i >= 10 && st != http.StatusTooManyRequests {
			t.Errorf("wrong secret %d for museum-app: %d", i+1, st)
		}
	}
	if st, _ := login(tg.browser(t), "museum-app", tg.secret); st != http.StatusTooManyRequests {
		t.Errorf("museum-app's right secret after 12 wrong ones: %d; want 429", st)
	}
	for _, app := range []string{"pension-fund-app", "city-r01-app"} {
		secret, err := tg.st.Directory.IssueClientSecret(ctx, "test", app)
		if err != nil {
			t.Fatal(err)
		}
		if st, page := login(tg.browser(t), app, secret); st != http.StatusOK || !strings.Contains(page, `id="verify"`) {
			t.Errorf("%s from the same address after museum-app's wrong secrets: %d; want its page", app, st)
		}
	}
	if !strings.Contains(tg.log.String(), "too many failed client authentications for this client id") {
		t.Error("the refused logins are not in the log")
	}
	if strings.Contains(tg.log.String(), "wrong-1") || strings.Contains(tg.log.String(), tg.secret) {
		t.Error("a secret is in the log")
	}
	// The address: its bound is higher, and holds.
	failures := 10 // museum-app's, before its client id was refused
	for ; failures < 100; failures++ {
		st, _ := login(mallory, fmt.Sprintf("guess-%d-app", failures), "wrong")
		if st == http.StatusTooManyRequests {
			break
		}
		if st != http.StatusUnauthorized {
			t.Fatalf("a guessed client id: %d", st)
		}
	}
	if failures < 50 || failures > 55 { // 50 a minute: one may come back while the loop runs
		t.Errorf("the address was stopped after %d failures; want 50", failures)
	}
}

// The statuses page takes one parameter, the date: a date that is none, or a parameter
// it does not know (?on=, the word the page shows), is refused and said, never
// answered silently with today.
func TestStatusesDateParameter(t *testing.T) {
	t.Parallel()
	tg := start(t)
	c := tg.browser(t)
	c.login(tg.persons(t, 1, false)[0])
	for _, tc := range []struct{ query, key string }{
		{"on=garbage", "error.params"},
		{"on=2026-01-01", "error.params"},
		{"date=2026-01-01&date=2020-01-01", "error.params"}, // a day asked twice (outsider finding)
		{"date=garbage", "error.date"},
		{"date=2026-02-30", "error.date"},
		{"date=2999-01-01", "error.date"},
	} {
		st, page := c.get("/portal/statuses?" + tc.query)
		if want := html.EscapeString(portal.T("en", tc.key)); st != http.StatusBadRequest || !strings.Contains(page, want) {
			t.Errorf("GET /portal/statuses?%s: %d %.300s; want 400 saying %q", tc.query, st, section(page, `id="error"`, "</p>"), want)
		}
	}
	if st, _ := c.get("/portal/statuses?date=" + time.Now().UTC().Format(time.DateOnly) + "&lang=fr"); st != http.StatusOK {
		t.Errorf("today's date with the language switch: %d; want 200", st)
	}
}
