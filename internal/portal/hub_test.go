package portal_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/hub/hubtest"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/rights"
	"github.com/crossroads-hub/crossroads/internal/rightsfacts"
)

// The nation the portal's tests run on, generated once per test binary; each test
// starts a real hub on a copy of its own.
// The rights engine's first national run is made on it, so that its persons have
// decisions.
var nation = &hubtest.Nation{Prefix: "crossroads-portal-", Seed: 20, Persons: 2000, Config: config, Prepare: recompute}

// recompute runs the rights engine on the whole nation, as `crossroads rights recompute`.
func recompute(ctx context.Context, cfg hub.Config, st *hub.Stores) error {
	return hub.Rights(ctx, cfg, st, func(ctx context.Context, e *rights.Engine, _ *rightsfacts.Access) error {
		res, err := e.Nation(ctx, "recompute", nil)
		if err == nil && (res.Changed == 0 || res.Failed != 0) {
			err = fmt.Errorf("recompute = %+v; want grants and no failure", res)
		}
		return err
	})
}

func TestMain(m *testing.M) {
	flag.Parse()
	hubtest.Parallel()
	code := m.Run()
	nation.Remove()
	os.Exit(code)
}

func config(dir string) hub.Config {
	return hub.Config{Addr: "127.0.0.1:0", Store: "sqlite:" + filepath.Join(dir, "hub.db"),
		Civil: "sqlite:" + filepath.Join(dir, "civil.db"), KeyFile: filepath.Join(dir, "hub-keys.json"),
		NATSDir: filepath.Join(dir, "nats"), Out: io.Discard}
}

// syncBuffer is the hub's log, read by the tests (one-time codes; no person numbers).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// target is a hub with the portal, the development identity provider and the code login.
type target struct {
	url    string
	st     *hub.Stores
	log    *syncBuffer
	secret string // of the museum's application, a verifier
}

func start(t *testing.T) *target { return startWith(t, nil) }

// startWith starts a hub whose configuration set changes (nil: none).
func startWith(t *testing.T, set func(*hub.Config)) *target {
	t.Helper()
	cfg := config(nation.Copy(t))
	tg := &target{log: &syncBuffer{}}
	cfg.Log = slog.New(slog.NewJSONHandler(tg.log, nil))
	cfg.Portal = hub.PortalConfig{DevIdP: true, CodeToLog: true}
	if set != nil {
		set(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := hub.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tg.st = st
	if tg.secret, err = st.Directory.IssueClientSecret(ctx, "test", "museum-app"); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	cfg.OnReady = func(u string) { urls <- u }
	done := make(chan error, 1)
	go func() { done <- hub.Serve(ctx, cfg, st) }()
	select {
	case tg.url = <-urls:
	case err := <-done:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		st.Close()
	})
	return tg
}

// persons returns living persons of the nation: n of 66 or more (who hold the old-age
// pension) when old, else any.
func (tg *target) persons(t *testing.T, n int, old bool) []string {
	t.Helper()
	ps, err := tg.st.Civil.Population().Persons(context.Background(), population.Query{Limit: 2000})
	if err != nil {
		t.Fatal(err)
	}
	cut := date.FromTime(time.Now()).AddDays(-66 * 366)
	var out []string
	for _, p := range ps {
		if p.DeathDate.IsZero() && (!old || p.BirthDate < cut) {
			out = append(out, p.Number)
			if len(out) == n {
				return out
			}
		}
	}
	t.Fatalf("fewer than %d such persons in the nation", n)
	return nil
}

// browser is a client with a cookie jar, following redirects like a browser.
type browser struct {
	t    *testing.T
	tg   *target
	c    *http.Client
	csrf string   // from the last page
	last *url.URL // where the last answer came from (after redirects)
}

func (tg *target) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, tg: tg, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) (int, http.Header, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.last = resp.Request.URL
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	checkHeaders(b.t, resp.Request.URL.Path, resp)
	return resp.StatusCode, resp.Header, string(body)
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	u := path
	if !strings.HasPrefix(path, "http") {
		u = b.tg.url + path
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	st, _, body := b.do(req)
	return st, body
}

// post sends a form with the CSRF token of the last page (unless the form has one).
func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = b.tg.url + path
	}
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	st, _, body := b.do(req)
	return st, body
}

// checkHeaders holds every answer of the portal and the identity provider to the
// security headers.
func checkHeaders(t *testing.T, path string, resp *http.Response) {
	t.Helper()
	if !strings.HasPrefix(path, "/portal/") && !strings.HasPrefix(path, "/devidp/") {
		return
	}
	h := resp.Header
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("GET %s: Content-Security-Policy %q lacks %q", path, csp, want)
		}
	}
	if strings.HasPrefix(path, "/portal/") && (strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval")) {
		t.Errorf("%s: Content-Security-Policy %q allows inline code", path, csp)
	}
	for name, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %s = %q; want %q", path, name, got, want)
		}
	}
	for _, c := range resp.Cookies() {
		if c.Name == "crossroads_portal" && (!c.HttpOnly || c.SameSite != http.SameSiteLaxMode) {
			t.Errorf("%s: session cookie %+v is not HttpOnly and SameSite=Lax", path, c)
		}
	}
}

var requestRE = regexp.MustCompile(`name="request" value="([^"]+)"`)

// login logs the browser in as person through the development identity provider.
func (b *browser) login(person string) {
	b.t.Helper()
	st, page := b.get("/portal/login/eid")
	m := requestRE.FindStringSubmatch(page)
	if st != http.StatusOK || m == nil {
		b.t.Fatalf("the e-ID login did not reach the provider's page: %d %.300s", st, page)
	}
	provider := b.last.Scheme + "://" + b.last.Host // the hub's development provider, or another
	st, page = b.post(provider+"/devidp/authorize", url.Values{"request": {m[1]}, "person": {person}})
	if st != http.StatusOK || !strings.Contains(page, `id="who"`) {
		b.t.Fatalf("login as %s: %d %.500s", person, st, page)
	}
}

// proLogin logs the browser in as the museum's application.
func (b *browser) proLogin() {
	b.t.Helper()
	b.get("/portal/pro")
	st, page := b.post("/portal/pro/login", url.Values{"client_id": {"museum-app"}, "client_secret": {b.tg.secret}})
	if st != http.StatusOK || !strings.Contains(page, `id="verify"`) {
		b.t.Fatalf("professional login: %d %.500s", st, page)
	}
}
