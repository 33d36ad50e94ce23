package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/metrics"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// benchEmployer is the synthetic nation's largest employer (synth.FixtureEmployer's
// enterprise number), for which the benchmark's payroll office declares.
const benchEmployer = "0300000016"

// DeclarationsAPI returns the measure of immediate declarations through the API of a
// hub serving the nation in dir: a payroll office mandated by the largest employer
// declares hires of distinct living adults from concurrency clients for d, each a real
// HTTP request with a token, checked, recorded with its event and sealed in the audit
// log (api_declarations_per_s).
func DeclarationsAPI(dir string, d time.Duration, concurrency int) func(ctx context.Context, r *Result) error {
	return func(ctx context.Context, r *Result) error {
		st, err := hub.Open(ctx, hub.Config{Store: "sqlite:" + filepath.Join(dir, "hub.db"), Civil: "sqlite:" + filepath.Join(dir, "civil.db")})
		if err != nil {
			return err
		}
		defer st.Close()
		persons, err := adults(ctx, st.Civil.Population(), st.Directory.Today().AddDays(-18*366))
		if err != nil {
			return err
		}
		secret, err := benchPayroll(ctx, st.Directory)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(ctx)
		urls, done := make(chan string, 1), make(chan error, 1)
		go func() {
			done <- hub.Serve(ctx, hub.Config{Addr: "127.0.0.1:0", Store: "sqlite:" + filepath.Join(dir, "hub.db"), Out: io.Discard,
				KeyFile: filepath.Join(dir, "hub-keys.json"), NATSDir: filepath.Join(dir, "nats"),
				OnReady: func(u string) { urls <- u }}, st)
		}()
		var base string
		select {
		case base = <-urls:
		case err := <-done:
			cancel()
			return err
		}
		defer func() { cancel(); <-done }()
		token, err := outbound.ClientToken(ctx, nil, base+oauth.TokenPath, "bench-payroll-app", secret, oauth.ScopeDeclarationSubmit)
		if err != nil {
			return err
		}
		start := st.Directory.Today().AddDays(7).String()
		var firstErr atomic.Pointer[string]
		l := drive(ctx, concurrency, d, func(ctx context.Context, c *http.Client, i int) error {
			if i >= len(persons) { // every worker of the nation hired: this client stops
				return errEnough
			}
			body := `{"kind":"hire","person":"` + persons[i] + `","employer":"` + benchEmployer + `","start":"` + start +
				`","contract":"permanent","fraction":1,"sector":"200"}`
			resp, err := outbound.Post(ctx, c, outbound.Request{URL: base + "/declarations", Body: []byte(body), Token: token, Limit: maxAnswer})
			if err != nil {
				e := err.Error()
				firstErr.CompareAndSwap(nil, &e)
				return err
			}
			if resp.Status != http.StatusCreated {
				e := fmt.Sprintf("status %d: %.300s", resp.Status, resp.Body)
				firstErr.CompareAndSwap(nil, &e)
				return fmt.Errorf("status %d: %.300s", resp.Status, resp.Body)
			}
			return nil
		})
		if first := firstErr.Load(); first != nil {
			fmt.Fprintln(os.Stderr, "first error:", *first, len(persons))
		}
		if l.n == 0 {
			return fmt.Errorf("no declaration went through (%d errors)", l.errors)
		}
		r.add("api_concurrency", "immediate declarations: concurrent clients", concurrency, "")
		r.add("api_declarations_per_s", "immediate declarations through the API (hire: token, checks, event, audit)", round(l.rps()), "/s")
		r.add("api_p99_ms", "immediate declarations: p99", decimals(ms(l.all.percentile(99)), 3), "ms")
		r.add("api_errors", "immediate declarations: errors", l.errors, "")
		// Processor time a declaration, all parties in this process (clients, hub, event
		// routing): while sending, and until the hub went quiet after (the events of the
		// last declarations routed too).
		r.add("api_cpu_us", "immediate declarations: processor time a declaration while sending, all parties", round(float64(l.cpu.Microseconds())/float64(l.n)), "µs")
		r.add("api_cpu_us_drained", "immediate declarations: processor time a declaration until the hub went quiet, all parties", round(float64((l.cpu+quiet(ctx)).Microseconds())/float64(l.n)), "µs")
		return nil
	}
}

// quiet waits until the process has used less than a tenth of a processor for a
// quarter of a second (at most 15 s) and returns the processor time it used meanwhile.
func quiet(ctx context.Context) time.Duration {
	const tick = 250 * time.Millisecond
	start := metrics.ProcessCPU()
	last := start
	for range 60 {
		select {
		case <-ctx.Done():
			return last - start
		case <-time.After(tick):
		}
		now := metrics.ProcessCPU()
		if now-last < tick/10 {
			return now - start
		}
		last = now
	}
	return last - start
}

// adults lists the living persons born on or before born, in number order.
func adults(ctx context.Context, pop population.Store, born date.Date) ([]string, error) {
	var out []string
	q := population.Query{Limit: 5000}
	for {
		page, err := pop.Persons(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, p := range page {
			if p.DeathDate.IsZero() && p.BirthDate <= born {
				out = append(out, p.Number)
			}
		}
		if len(page) == 0 {
			return out, nil
		}
		q.After = page[len(page)-1].Number
	}
}

// benchPayroll registers a payroll office mandated by benchEmployer, with an
// application, and returns the application's secret.
func benchPayroll(ctx context.Context, d *directory.Directory) (string, error) {
	inst := directory.Institution{Code: "BENCH-PAYROLL", Name: "Benchmark payroll office", Sector: "employment", Kind: "payroll_office",
		Mandates: []string{benchEmployer}}
	app := directory.Application{ID: "bench-payroll-app", Institution: inst.Code, Name: "Benchmark payroll", Status: directory.StatusActive,
		AuthMethods: []string{directory.AuthClientSecret}}
	if _, _, err := directory.Put(ctx, d, "bench", inst, directory.AnyVersion); err != nil {
		return "", err
	}
	if _, _, err := directory.Put(ctx, d, "bench", app, directory.AnyVersion); err != nil {
		return "", err
	}
	return d.IssueClientSecret(ctx, "bench", app.ID)
}
