package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/portal"
)

// PortalOptions configure the portal benchmark.
type PortalOptions struct {
	Data     string        // a folder holding a generated nation
	Rate     int           // pages a second, sent at a steady pace whatever the answers take
	Duration time.Duration // of the load
	Citizens int           // logged in, each asking in turn
}

// Portal measures the portal: its pages rendered on the server under a steady rate of
// requests (open loop: a request is sent on time even when earlier ones are slow, so
// the latencies include any queueing), the offline verification of a credential, and a
// credential's size. Each citizen logs in through the development identity provider;
// the pages asked in turn are "my statuses" (three registries read through the
// exchange, three audit records sealed) and "who consulted my data" (the audit index).
func Portal(ctx context.Context, o PortalOptions) (*Result, error) {
	if o.Rate <= 0 || o.Duration <= 0 || o.Citizens <= 0 {
		return nil, errors.New("rate, duration and citizens must be positive")
	}
	cfg := hub.Config{Addr: "127.0.0.1:0", Store: "sqlite:" + filepath.Join(o.Data, "hub.db"), Civil: "sqlite:" + filepath.Join(o.Data, "civil.db"),
		Out: io.Discard, KeyFile: filepath.Join(o.Data, "hub-keys.json"), NATSDir: filepath.Join(o.Data, "nats"),
		Portal: hub.PortalConfig{DevIdP: true}}
	st, err := hub.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	persons, err := elders(ctx, st.Civil.Population(), o.Citizens)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	urls, done := make(chan string, 1), make(chan error, 1)
	cfg.OnReady = func(u string) { urls <- u }
	go func() { done <- hub.Serve(ctx, cfg, st) }()
	var base string
	select {
	case base = <-urls:
	case err := <-done:
		cancel()
		return nil, err
	}
	defer func() { cancel(); <-done }()
	var citizens []*citizen
	for _, p := range persons {
		c, err := logIn(ctx, base, p)
		if err != nil {
			return nil, err
		}
		citizens = append(citizens, c)
	}
	jwt, err := citizens[0].prove(ctx)
	if err != nil {
		return nil, err
	}
	pages := []string{"/portal/statuses", "/portal/consultations"}
	lat, errs, sent, elapsed := openLoop(ctx, o, func(ctx context.Context, i int) error {
		return citizens[i%len(citizens)].page(ctx, pages[(i/len(citizens))%len(pages)])
	})
	verify, err := verifyTime(ctx, base, jwt)
	if err != nil {
		return nil, err
	}
	r := newResult("portal")
	r.add("rate", "pages asked a second (steady)", o.Rate, "/s")
	r.add("achieved_rate", "pages answered a second", round(float64(len(lat))/elapsed.Seconds()), "/s")
	r.add("pages", "pages answered", len(lat), "")
	r.add("errors", "errors", errs, "")
	r.add("sent", "pages sent", sent, "")
	r.add("page_p50_ms", "page render p50", decimals(ms(lat.percentile(50)), 3), "ms")
	r.add("page_p99_ms", "page render p99", decimals(ms(lat.percentile(99)), 3), "ms")
	r.add("verify_offline_us", "offline verification of a credential", decimals(float64(verify.Nanoseconds())/1000, 3), "µs")
	r.add("credential_bytes", "credential size (the QR code's content)", len(jwt), "bytes")
	return r, nil
}

// elders returns n living persons of 66 or more: each holds the old-age pension, a status
// to prove.
func elders(ctx context.Context, pop population.Store, n int) ([]string, error) {
	cut := date.FromTime(time.Now()).AddDays(-66 * 366)
	var out []string
	after := ""
	for len(out) < n {
		ps, err := pop.Persons(ctx, population.Query{After: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		if len(ps) == 0 {
			return nil, fmt.Errorf("fewer than %d persons of 66 or more in the nation", n)
		}
		for _, p := range ps {
			if p.DeathDate.IsZero() && p.BirthDate < cut && len(out) < n {
				out = append(out, p.Number)
			}
		}
		after = ps[len(ps)-1].Number
	}
	return out, nil
}

// openLoop sends o.Rate requests a second for o.Duration, each in its own goroutine.
func openLoop(ctx context.Context, o PortalOptions, ask func(ctx context.Context, i int) error) (latencies, int, int, time.Duration) {
	var (
		mu   sync.Mutex
		all  latencies
		errs int
		wg   sync.WaitGroup
	)
	every := time.Second / time.Duration(o.Rate)
	start := time.Now()
	n := int(o.Duration / every)
	for i := range n {
		if d := time.Until(start.Add(time.Duration(i) * every)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			err := ask(ctx, i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs++
				return
			}
			all = append(all, time.Since(t))
		}()
	}
	wg.Wait()
	return all, errs, n, time.Since(start)
}

// citizen is a browser logged in as one person.
type citizen struct {
	base string
	c    *http.Client
	csrf string
}

var (
	requestField = regexp.MustCompile(`name="request" value="([^"]+)"`)
	csrfField    = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	jwtField     = regexp.MustCompile(`id="jwt" readonly rows="6">([^<]+)<`)
)

func logIn(ctx context.Context, base, person string) (*citizen, error) {
	jar, _ := cookiejar.New(nil)
	c := &citizen{base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	page, err := c.do(ctx, http.MethodGet, "/portal/login/eid", nil)
	if err != nil {
		return nil, err
	}
	m := requestField.FindStringSubmatch(page)
	if m == nil {
		return nil, errors.New("the development identity provider showed no login page")
	}
	page, err = c.do(ctx, http.MethodPost, "/devidp/authorize", url.Values{"request": {m[1]}, "person": {person}})
	if err != nil || !strings.Contains(page, `id="who"`) {
		return nil, fmt.Errorf("log in through the development identity provider: %v", err)
	}
	return c, nil
}

func (c *citizen) do(ctx context.Context, method, path string, form url.Values) (string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	if m := csrfField.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return string(b), err
}

func (c *citizen) page(ctx context.Context, path string) error {
	page, err := c.do(ctx, http.MethodGet, path, nil)
	if err == nil && !strings.Contains(page, `id="who"`) {
		err = fmt.Errorf("GET %s: not the citizen's page", path)
	}
	return err
}

func (c *citizen) prove(ctx context.Context) (string, error) {
	if _, err := c.do(ctx, http.MethodGet, "/portal/proof", nil); err != nil {
		return "", err
	}
	page, err := c.do(ctx, http.MethodPost, "/portal/proof", url.Values{"csrf": {c.csrf}, "status": {"programme:old-age-pension"}})
	m := jwtField.FindStringSubmatch(page)
	if err != nil || m == nil {
		return "", fmt.Errorf("create a proof: %v", err)
	}
	return m[1], nil
}

// verifyTime is the time of one offline verification, with the keys the hub publishes.
func verifyTime(ctx context.Context, base, jwt string) (time.Duration, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/.well-known/jwks.json", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var jwks jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil {
		return 0, err
	}
	const n = 20000
	now := time.Now()
	start := time.Now()
	for range n {
		if _, err := portal.VerifyCredential(jwt, jwks, base, now); err != nil {
			return 0, err
		}
	}
	return time.Since(start) / n, nil
}
