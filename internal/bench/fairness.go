package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/metrics"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// FairnessOptions configure the fairness benchmark.
type FairnessOptions struct {
	Data     string        // a folder holding a generated nation (hub.db, civil.db)
	Duration time.Duration // of each of the two phases, cut into Rounds slices
	Rounds   int           // default 3
	// The well-behaved client: look-ups by person number, Rate a second spread over
	// Workers (0: each worker sends its next one when the last is answered).
	Workers int
	Rate    float64
	// The abusive client: Abusers connections each sending full-scan filters without
	// pause; with AbuserWaits it waits as a 429's Retry-After says, else not at all.
	Abusers     int
	AbuserWaits bool
	NoLimits    bool // turn the exchange's limits off, to see what they change
}

// Fairness measures what one client's load does to another's: the well-behaved
// client's look-ups alone, then while the abusive client sends searches by filter that
// read the whole register, in interleaved slices (the machine drifts). The figure is the
// ratio of the well-behaved client's p99, loaded over alone.
func Fairness(ctx context.Context, o FairnessOptions) (*Result, error) {
	if o.Rounds <= 0 {
		o.Rounds = 3
	}
	st, err := hub.Open(ctx, hub.Config{Store: "sqlite:" + filepath.Join(o.Data, "hub.db"), Civil: "sqlite:" + filepath.Join(o.Data, "civil.db")})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	persons, err := filesOf(ctx, st.Directory, synth.HealthInsurer1, 5000)
	if err != nil {
		return nil, err
	}
	cfg := hub.Config{Addr: "127.0.0.1:0", Store: "sqlite:" + filepath.Join(o.Data, "hub.db"), Out: io.Discard,
		KeyFile: filepath.Join(o.Data, "hub-keys.json"), NATSDir: filepath.Join(o.Data, "nats")}
	if o.NoLimits {
		cfg.Limits = &exchange.Limits{Slots: math.MaxInt32}
	}
	base, stop, err := serveHub(ctx, cfg, st)
	if err != nil {
		return nil, err
	}
	defer stop()
	good, err := appToken(ctx, st, base, synth.HealthInsurer1)
	if err != nil {
		return nil, err
	}
	bad, err := appToken(ctx, st, base, synth.PensionFund)
	if err != nil {
		return nil, err
	}
	url := base + "/dci/crvs/registry/sync/search"
	lookups := func(d time.Duration) load {
		return paced(ctx, o.Workers, o.Rate, d, func(ctx context.Context, c *http.Client, i int) error {
			return lookup(ctx, c, url, good, persons[i%len(persons)], i)
		})
	}
	slice := o.Duration / time.Duration(o.Rounds)
	var alone, loaded load
	var abuse abuse
	for range o.Rounds {
		alone.add(lookups(slice))
		stopAbuse := abuse.start(ctx, o, url, bad)
		loaded.add(lookups(slice))
		stopAbuse()
	}
	return fairnessResult(o, alone, loaded, &abuse), nil
}

func fairnessResult(o FairnessOptions, alone, loaded load, a *abuse) *Result {
	r := newResult("fairness")
	r.add("limits", "the exchange's limits", !o.NoLimits, "")
	r.add("lookup_workers", "well-behaved client: workers", o.Workers, "")
	r.add("lookup_rate", "well-behaved client: look-ups offered a second (0: closed loop)", o.Rate, "/s")
	r.add("abusers", "abusive client: connections sending full-scan filters", o.Abusers, "")
	r.add("abuser_waits", "abusive client waits as Retry-After says", o.AbuserWaits, "")
	for _, m := range []struct {
		key, label string
		l          load
	}{{"alone", "alone", alone}, {"loaded", "with the abusive client", loaded}} {
		r.add("lookup_"+m.key+"_rps", "look-ups "+m.label+": answered a second", round(m.l.rps()), "/s")
		r.add("lookup_"+m.key+"_p50_ms", "look-ups "+m.label+": p50", decimals(ms(m.l.all.percentile(50)), 3), "ms")
		r.add("lookup_"+m.key+"_p99_ms", "look-ups "+m.label+": p99", decimals(ms(m.l.all.percentile(99)), 3), "ms")
		r.add("lookup_"+m.key+"_errors", "look-ups "+m.label+": errors", m.l.errors, "")
	}
	ratio := float64(loaded.all.percentile(99)) / float64(max(alone.all.percentile(99), 1))
	r.add("p99_loaded_over_alone", "look-ups' p99, with the abusive client / alone (target ≤ 2)", decimals(ratio, 3), "")
	secs := a.elapsed.Seconds()
	r.add("filters_answered_per_s", "abusive client's filters answered (200) a second", round(float64(a.answered.Load())/secs), "/s")
	r.add("filters_limited_per_s", "abusive client's filters refused 429 a second", round(float64(a.limited.Load())/secs), "/s")
	r.add("filters_busy_per_s", "abusive client's filters refused 503 a second", round(float64(a.busy.Load())/secs), "/s")
	r.add("filters_other", "abusive client's filters with another outcome", a.other.Load(), "")
	return r
}

// abuse is the abusive client: its outcomes and how long it ran, over every slice.
type abuse struct {
	answered, limited, busy, other atomic.Int64
	elapsed                        time.Duration
}

// scans are searches by filter that read the register: one no index narrows (every
// person examined until the hub's bound on a scan refuses it), one the index answers
// by counting every person.
var scans = []string{
	`[{"expression1":{"attribute_name":"given_name","operator":"eq","attribute_value":"Nobody-At-All"}}]`,
	`[{"expression1":{"attribute_name":"birth_date","operator":"lt","attribute_value":"2100-01-01"}}]`,
}

// start runs the abusive client until the returned func is called; that func returns
// once every connection has had its last answer.
func (a *abuse) start(ctx context.Context, o FairnessOptions, url, token string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: o.Abusers}}
	var wg sync.WaitGroup
	begin := time.Now()
	for g := range o.Abusers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; ctx.Err() == nil; i += o.Abusers {
				wait := a.send(ctx, client, url, token, i)
				if o.AbuserWaits && wait > 0 {
					select {
					case <-ctx.Done():
					case <-time.After(wait):
					}
				}
			}
		}()
	}
	return func() {
		cancel()
		wg.Wait()
		client.CloseIdleConnections()
		a.elapsed += time.Since(begin)
	}
}

// send sends one full-scan filter, counts its outcome and returns the Retry-After.
func (a *abuse) send(ctx context.Context, c *http.Client, url, token string, i int) time.Duration {
	ts := time.Now().UTC().Format(time.RFC3339)
	body := fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":"f%d-%d","message_ts":%q,"action":"search","sender_id":"bench","total_count":1},`+
		`"message":{"transaction_id":"f%d","search_request":[{"reference_id":"r","timestamp":%q,"search_criteria":{"query_type":"predicate","query":%s,"pagination":{"page_size":10,"page_number":1}},"locale":"eng"}]}}`,
		epoch, messages.Add(1), ts, i, ts, scans[i%len(scans)])
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			a.other.Add(1)
		}
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	switch resp.StatusCode {
	case http.StatusOK:
		a.answered.Add(1)
	case http.StatusTooManyRequests:
		a.limited.Add(1)
	case http.StatusServiceUnavailable:
		a.busy.Add(1)
	default:
		a.other.Add(1)
	}
	s, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	return time.Duration(s) * time.Second
}

// paced calls ask rate times a second, the i-th call at start + i/rate, spread over
// workers, for d; a call's latency counts from when it was due, so that a hub that
// falls behind is not flattered by the calls it delayed. Rate 0: drive (closed loop).
func paced(ctx context.Context, workers int, rate float64, d time.Duration, ask func(ctx context.Context, c *http.Client, i int) error) load {
	if rate <= 0 {
		return drive(ctx, workers, d, ask)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers * 2}}
	defer client.CloseIdleConnections()
	var (
		n, errs atomic.Int64
		mu      sync.Mutex
		all     latencies
		wg      sync.WaitGroup
	)
	start, cpu := time.Now(), metrics.ProcessCPU()
	total := int(rate * d.Seconds())
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine latencies
			for i := g; i < total && ctx.Err() == nil; i += workers {
				due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
				time.Sleep(time.Until(due))
				if err := ask(ctx, client, i); err != nil {
					errs.Add(1)
					continue
				}
				mine = append(mine, time.Since(due))
				n.Add(1)
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return load{n: n.Load(), errors: errs.Load(), elapsed: time.Since(start), cpu: metrics.ProcessCPU() - cpu, all: all}
}

// serveHub serves a hub on st with cfg until stop.
func serveHub(ctx context.Context, cfg hub.Config, st *hub.Stores) (base string, stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	urls := make(chan string, 1)
	done := make(chan error, 1)
	cfg.OnReady = func(u string) { urls <- u }
	go func() { done <- hub.Serve(ctx, cfg, st) }()
	select {
	case base = <-urls:
		return base, func() { cancel(); <-done }, nil
	case err := <-done:
		cancel()
		return "", nil, err
	}
}

// appToken issues a secret to institution's application and gets a token with it.
func appToken(ctx context.Context, st *hub.Stores, base, institution string) (string, error) {
	secret, err := st.Directory.IssueClientSecret(ctx, "bench", synth.AppID(institution))
	if err != nil {
		return "", err
	}
	return clientToken(ctx, base, synth.AppID(institution), secret)
}
