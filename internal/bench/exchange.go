package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crossroads-hub/crossroads/internal/civil"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/httpapi"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/metrics"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// ExchangeOptions configure the exchange benchmark.
type ExchangeOptions struct {
	Data        string // a folder holding a generated nation (hub.db, civil.db)
	Duration    time.Duration
	Concurrency int
	Rounds      int // each path's Duration is cut into this many slices, interleaved; default 5
	// Batch is the persons (lines) of one batch consultation sent through the hub with
	// the source built in, after the other paths; 0: none. Duration 0 measures it alone.
	Batch int
}

// load is what one path measured: requests, time, latencies, errors.
type load struct {
	n, errors int64
	elapsed   time.Duration
	cpu       time.Duration // processor time of the whole process (clients, proxy, source, hub)
	all       latencies
}

func (l *load) add(m load) {
	l.n += m.n
	l.errors += m.errors
	l.elapsed += m.elapsed
	l.cpu += m.cpu
	l.all = append(l.all, m.all...)
}

func (l load) rps() float64 { return float64(l.n) / l.elapsed.Seconds() }

// cpuPerRequest is the processor time one request cost, all parties together, in µs.
func (l load) cpuPerRequest() float64 {
	if l.n == 0 {
		return 0
	}
	return float64(l.cpu.Microseconds()) / float64(l.n)
}

// Exchange drives the same sync person look-ups (a) straight at the civil source over
// HTTP, (b) through a bare reverse proxy, (c1) through the hub with the source built in,
// (c2) through the hub reaching the source over HTTP as a remote one.
//
// The machine's speed drifts during a run (other work, caches, the processor's clock),
// so the paths are measured in interleaved slices: with the hub of (c1) serving, rounds
// of a, b, c1; then with the hub of (c2), rounds of a, b, c2. Each ratio compares paths
// measured side by side: c1 with the a of the first phase, c2 with the b of the second
// (the two phases can differ by a fifth). The figures of a and b are summed over both.
func Exchange(ctx context.Context, o ExchangeOptions) (*Result, error) {
	if o.Rounds <= 0 {
		o.Rounds = 5
	}
	st, err := hub.Open(ctx, hub.Config{Store: "sqlite:" + filepath.Join(o.Data, "hub.db"), Civil: "sqlite:" + filepath.Join(o.Data, "civil.db")})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	persons, err := filesOf(ctx, st.Directory, synth.PensionFund, 5000)
	if err != nil {
		return nil, err
	}
	src := &civil.Source{Store: st.Civil.Population(), Searcher: st.Civil.Searcher()}
	direct, stopDirect, err := serve(httpapi.SourceHandler(src))
	if err != nil {
		return nil, err
	}
	defer stopDirect()
	target, _ := url.Parse(direct)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 1024}
	proxy, stopProxy, err := serve(rp)
	if err != nil {
		return nil, err
	}
	defer stopProxy()
	var body []byte
	if o.Batch > 0 {
		all, err := filesOf(ctx, st.Directory, synth.PensionFund, o.Batch)
		if err != nil {
			return nil, err
		}
		body = batchBody(all, o.Batch)
	}
	slice := o.Duration / time.Duration(2*o.Rounds) // a and b run in both phases
	var a, b, c [2]load                             // by phase
	var bl batchLoad
	for i, overHTTP := range []bool{false, true} {
		if o.Duration <= 0 && i > 0 {
			break
		}
		var berr error
		err := throughHub(ctx, o, st, overHTTP, direct, func(base, token string) {
			for range o.Rounds {
				if o.Duration <= 0 {
					break
				}
				a[i].add(run(ctx, o.Concurrency, slice, direct+"/registry/sync/search", "", persons))
				b[i].add(run(ctx, o.Concurrency, slice, proxy+"/registry/sync/search", "", persons))
				c[i].add(run(ctx, o.Concurrency, 2*slice, base+"/dci/crvs/registry/sync/search", token, persons))
			}
			if i == 0 && body != nil {
				bl, berr = runBatch(ctx, base, token, body)
			}
		})
		if err == nil {
			err = berr
		}
		if err != nil {
			return nil, err
		}
	}
	r := newResult("exchange")
	if o.Duration > 0 {
		r = exchangeResult(o, a, b, c)
	}
	if body != nil {
		addBatch(r, bl)
	}
	return r, nil
}

func exchangeResult(o ExchangeOptions, a, b, c [2]load) *Result {
	var allA, allB load
	for i := range a {
		allA.add(a[i])
		allB.add(b[i])
	}
	r := newResult("exchange")
	r.add("concurrency", "concurrent clients", o.Concurrency, "")
	r.add("rounds", "interleaved rounds", o.Rounds, "")
	for _, m := range []struct {
		key, label string
		l          load
	}{{"direct", "(a) direct to the source", allA}, {"proxy", "(b) through a reverse proxy", allB}, {"hub", "(c1) through the hub, source built in", c[0]}, {"hub_remote", "(c2) through the hub, source over HTTP", c[1]}} {
		r.add(m.key+"_rps", m.label+": requests/s", round(m.l.rps()), "/s")
		r.add(m.key+"_p50_ms", m.label+": p50", decimals(ms(m.l.all.percentile(50)), 3), "ms")
		r.add(m.key+"_p99_ms", m.label+": p99", decimals(ms(m.l.all.percentile(99)), 3), "ms")
		r.add(m.key+"_errors", m.label+": errors", m.l.errors, "")
		r.add(m.key+"_cpu_us", m.label+": processor time a request, all parties", round(m.l.cpuPerRequest()), "µs")
	}
	r.add("hub_over_direct", "c1/a (a beside c1)", decimals(c[0].rps()/a[0].rps(), 3), "")
	r.add("hub_remote_over_proxy", "c2/b (b beside c2)", decimals(c[1].rps()/b[1].rps(), 3), "")
	return r
}

// throughHub starts a hub on the data, gets a token for the pension fund's application,
// and calls measure while it serves.
func throughHub(ctx context.Context, o ExchangeOptions, st *hub.Stores, overHTTP bool, source string, measure func(base, token string)) error {
	return throughHubRenewing(ctx, o, st, overHTTP, source, func(base string, token func() string) { measure(base, token()) })
}

// throughHubRenewing is throughHub for runs longer than a token lives (5 minutes):
// token returns one renewed every two minutes.
func throughHubRenewing(ctx context.Context, o ExchangeOptions, st *hub.Stores, overHTTP bool, source string, measure func(base string, token func() string)) error {
	secret, err := st.Directory.IssueClientSecret(ctx, "bench", synth.AppID(synth.PensionFund))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- hub.Serve(ctx, hub.Config{Addr: "127.0.0.1:0", Store: "sqlite:" + filepath.Join(o.Data, "hub.db"), Out: io.Discard, BuiltinOverHTTP: overHTTP, SourceURLs: map[string]string{"civil": source},
			KeyFile: filepath.Join(o.Data, "hub-keys.json"), NATSDir: filepath.Join(o.Data, "nats"),
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
	token, err := clientToken(ctx, base, synth.AppID(synth.PensionFund), secret)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	got := time.Now()
	measure(base, func() string {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(got) > 2*time.Minute {
			if t, err := clientToken(ctx, base, synth.AppID(synth.PensionFund), secret); err == nil {
				token, got = t, time.Now()
			}
		}
		return token
	})
	return nil
}

// run sends look-ups of persons from concurrency clients for d.
func run(ctx context.Context, concurrency int, d time.Duration, url, token string, persons []string) load {
	return drive(ctx, concurrency, d, func(ctx context.Context, c *http.Client, i int) error {
		return lookup(ctx, c, url, token, persons[i%len(persons)], i)
	})
}

// errEnough, returned by drive's ask, stops that client without counting an error: there
// is nothing more to send (the immediate declarations' bench has hired every worker).
var errEnough = errors.New("nothing more to send")

// drive calls ask from concurrency clients for d, the i-th call with i, and measures.
func drive(ctx context.Context, concurrency int, d time.Duration, ask func(ctx context.Context, c *http.Client, i int) error) load {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: concurrency * 2}}
	defer client.CloseIdleConnections()
	var (
		n, errs atomic.Int64
		mu      sync.Mutex
		all     latencies
		wg      sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	start, cpu := time.Now(), metrics.ProcessCPU()
	for g := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine latencies
			for i := g; time.Now().Before(deadline) && ctx.Err() == nil; i += concurrency {
				t := time.Now()
				if err := ask(ctx, client, i); errors.Is(err, errEnough) {
					break
				} else if err != nil {
					errs.Add(1)
					continue
				}
				mine = append(mine, time.Since(t))
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

// messages numbers the benchmark's messages; epoch tells apart the runs of one process.
var (
	messages atomic.Int64
	epoch    = time.Now().UnixNano()
)

// lookup sends one DCI sync search for a person by number and checks it got the record.
func lookup(ctx context.Context, c *http.Client, url, token, person string, i int) error {
	return lookupBy(ctx, c, url, token, "PN", person, person, i)
}

// lookupBy sends one DCI sync search by an identifier and checks that the answer is 200
// and holds want.
func lookupBy(ctx context.Context, c *http.Client, url, token, idType, id, want string, i int) error {
	ts := time.Now().UTC().Format(time.RFC3339)
	n := messages.Add(1) // a repeated message id would be refused
	body := fmt.Sprintf(`{"signature":"","header":{"version":"1.0.0","message_id":"m%d-%d","message_ts":%q,"action":"search","sender_id":"bench","total_count":1},`+
		`"message":{"transaction_id":"t%d","search_request":[{"reference_id":"r%d","timestamp":%q,"search_criteria":{"query_type":"idtype-value","query":{"type":%q,"value":%q},"pagination":{"page_size":1,"page_number":1}},"locale":"eng"}]}}`,
		epoch, n, ts, i, i, ts, idType, id)
	return post(ctx, c, url, token, body, want)
}

func clientToken(ctx context.Context, base, id, secret string) (string, error) {
	return outbound.ClientToken(ctx, nil, base+oauth.TokenPath, id, secret, "registry.search")
}

// filesOf returns up to n persons institution has a file on today.
func filesOf(ctx context.Context, d *directory.Directory, institution string, n int) ([]string, error) {
	var out []string
	q := directory.IntegrationQuery{Institution: institution, Day: d.Today(), Limit: 1000}
	for len(out) < n {
		page, err := d.Store().Integrations(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, g := range page {
			out = append(out, g.Person)
		}
		if len(page) < q.Limit {
			break
		}
		q.After = page[len(page)-1].Cursor()
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no files today: generate a nation first", institution)
	}
	return out, nil
}

// serve runs h on a loopback port until stop.
func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}
