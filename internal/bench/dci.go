package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crossroads-hub/crossroads/internal/civil"
	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/httpapi"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// DCIOptions configure the DCI benchmark.
type DCIOptions struct {
	Data        string // a folder holding a generated nation (hub.db, civil.db)
	Duration    time.Duration
	Concurrency int
	Rate        float64 // searches sent per second, spread over the clients; 0: as fast as they can
}

// DCI measures the asynchronous search: how many searches the hub accepts per second,
// whether every callback arrives, and the time from sending a search to receiving its
// answer at the partner's callback URL.
func DCI(ctx context.Context, o DCIOptions) (*Result, error) {
	st, err := hub.Open(ctx, hub.Config{Store: "sqlite:" + filepath.Join(o.Data, "hub.db"), Civil: "sqlite:" + filepath.Join(o.Data, "civil.db")})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	persons, err := filesOf(ctx, st.Directory, synth.PensionFund, 5000)
	if err != nil {
		return nil, err
	}
	rc := &callbacks{sent: map[string]time.Time{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	partner := &http.Server{Handler: rc, ReadHeaderTimeout: 5 * time.Second}
	go partner.Serve(ln)
	defer partner.Close()
	callbackBase := "http://" + ln.Addr().String() + "/bench/"
	app, _, err := directory.Get[directory.Application](ctx, st.Directory, synth.AppID(synth.PensionFund))
	if err != nil {
		return nil, err
	}
	app.Callbacks = []string{callbackBase}
	if _, _, err := directory.Put(ctx, st.Directory, "bench", app, directory.AnyVersion); err != nil {
		return nil, err
	}
	var out *Result
	err = throughHub(ctx, ExchangeOptions{Data: o.Data}, st, false, "", func(base, token string) {
		out = asyncLoad(ctx, o, base+"/dci/crvs/registry/search", token, callbackBase+"on-search", persons, rc)
		if ctx.Err() == nil {
			err = syncRegistries(ctx, o, st, base, out)
		}
		if err == nil && ctx.Err() == nil {
			err = predicateSearch(ctx, o, st, base, out)
		}
	})
	return out, err
}

// syncRegistries measures synchronous look-ups in each registry, each by an institution
// authorized on it, about persons it has files on: (a) straight at the built-in source
// over HTTP and (c1) through the hub, in interleaved slices as the exchange benchmark
// does, with the ratio c1/a.
func syncRegistries(ctx context.Context, o DCIOptions, st *hub.Stores, base string, r *Result) error {
	const rounds = 3
	for _, reg := range []struct{ path, kind, institution, idType, prefix, want string }{
		{"crvs", "civil", synth.HealthInsurer1, "PN", "", "family_name"},
		{"sr", derived.Social, synth.CityPrefix + "R01", "UIN", "", "poverty_score"},
		{"ibr", derived.Beneficiary, synth.PensionFund, "PN", "", "programmes"},
		{"dr", derived.Disability, synth.HealthInsurer1, "PN", "", "severity"},
		{"fr", derived.Farmer, synth.HealthInsurer1, "FARMER_ID", "FARMER-", "on-search"}, // most members farm nothing: an empty answer
	} {
		persons, err := filesOf(ctx, st.Directory, reg.institution, 2000)
		if err != nil {
			return err
		}
		secret, err := st.Directory.IssueClientSecret(ctx, "bench", synth.AppID(reg.institution))
		if err != nil {
			return err
		}
		token, err := clientToken(ctx, base, synth.AppID(reg.institution), secret)
		if err != nil {
			return err
		}
		var src exchange.Source = &civil.Source{Store: st.Civil.Population(), Searcher: st.Civil.Searcher()}
		if reg.kind != "civil" {
			src = &derived.Source{Kind: reg.kind, Store: st.Civil.Population(), Searcher: st.Civil.Searcher(), Today: st.Directory.Today}
		}
		direct, stop, err := serve(httpapi.SourceHandler(src))
		if err != nil {
			return err
		}
		var a, c load
		for range rounds {
			for _, p := range []struct {
				l          *load
				url, token string
			}{{&a, direct + "/registry/sync/search", ""}, {&c, base + "/dci/" + reg.path + "/registry/sync/search", token}} {
				p.l.add(drive(ctx, o.Concurrency, o.Duration/(5*2*rounds), func(ctx context.Context, cl *http.Client, i int) error {
					return lookupBy(ctx, cl, p.url, p.token, reg.idType, reg.prefix+persons[i%len(persons)], reg.want, i)
				}))
			}
		}
		stop()
		r.add("sync_"+reg.path+"_direct_rps", "sync search "+reg.path+", straight at the source: requests/s", round(a.rps()), "/s")
		r.add("sync_"+reg.path+"_rps", "sync search "+reg.path+", through the hub: requests/s", round(c.rps()), "/s")
		r.add("sync_"+reg.path+"_p99_ms", "sync search "+reg.path+", through the hub: p99", decimals(ms(c.all.percentile(99)), 3), "ms")
		r.add("sync_"+reg.path+"_errors", "sync search "+reg.path+": errors", a.errors+c.errors, "")
		r.add("sync_"+reg.path+"_over_direct", "sync search "+reg.path+": hub / straight at the source", decimals(c.rps()/a.rps(), 3), "")
	}
	return nil
}

// callbacks is the partner's callback endpoint: it notes when each answer arrives.
type callbacks struct {
	mu       sync.Mutex
	sent     map[string]time.Time // correlation id → when its search was sent
	early    map[string]time.Time // answers that came before their ACK was read
	lat      latencies
	received atomic.Int64
}

func (c *callbacks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var cb struct {
		Message struct {
			CorrelationID string `json:"correlation_id"`
		} `json:"message"`
	}
	err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&cb)
	now := time.Now()
	w.WriteHeader(http.StatusOK)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.sent[cb.Message.CorrelationID]; ok {
		c.lat = append(c.lat, now.Sub(t))
		delete(c.sent, cb.Message.CorrelationID)
		c.received.Add(1)
	} else {
		if c.early == nil {
			c.early = map[string]time.Time{}
		}
		c.early[cb.Message.CorrelationID] = now
	}
}

// expect notes that the search sent at t was acknowledged with corr.
func (c *callbacks) expect(corr string, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if at, ok := c.early[corr]; ok {
		c.lat = append(c.lat, at.Sub(t))
		delete(c.early, corr)
		c.received.Add(1)
		return
	}
	c.sent[corr] = t
}

func asyncLoad(ctx context.Context, o DCIOptions, url, token, callback string, persons []string, rc *callbacks) *Result {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency * 2}}
	defer client.CloseIdleConnections()
	var accepted, refused atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(o.Duration)
	start := time.Now()
	for g := range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; time.Now().Before(deadline) && ctx.Err() == nil; i += o.Concurrency {
				if o.Rate > 0 { // search i goes at start + i/Rate
					time.Sleep(time.Until(start.Add(time.Duration(float64(i) / o.Rate * float64(time.Second)))))
				}
				t := time.Now()
				corr, err := sendAsync(ctx, client, url, token, callback, persons[i%len(persons)], i, t)
				if err != nil {
					refused.Add(1)
					continue
				}
				rc.expect(corr, t)
				accepted.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	wait := time.Now().Add(30 * time.Second)
	for rc.received.Load() < accepted.Load() && time.Now().Before(wait) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	rc.mu.Lock()
	lat := rc.lat
	rc.mu.Unlock()
	r := newResult("dci")
	r.add("concurrency", "concurrent clients", o.Concurrency, "")
	r.add("async_rate", "searches offered per second (0: as fast as possible)", o.Rate, "/s")
	r.add("async_accepted", "async searches accepted", accepted.Load(), "")
	r.add("async_accepted_per_s", "async searches accepted per second", round(float64(accepted.Load())/elapsed.Seconds()), "/s")
	r.add("async_refused", "async searches refused", refused.Load(), "")
	r.add("async_callbacks", "callbacks received", rc.received.Load(), "")
	r.add("async_p50_ms", "request to callback: p50", decimals(ms(lat.percentile(50)), 3), "ms")
	r.add("async_p99_ms", "request to callback: p99", decimals(ms(lat.percentile(99)), 3), "ms")
	return r
}

// sendAsync sends one asynchronous search and returns the correlation id of its ACK.
func sendAsync(ctx context.Context, c *http.Client, url, token, callback, person string, i int, at time.Time) (string, error) {
	ts := at.UTC().Format(time.RFC3339)
	body := fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":"bench-%d-%d","message_ts":%q,"action":"search","sender_id":"bench","sender_uri":%q,"total_count":1},`+
		`"message":{"transaction_id":"bench-%d-%d","search_request":[{"reference_id":"r%d","timestamp":%q,"search_criteria":{"query_type":"idtype-value","query":{"type":"PN","value":%q},"pagination":{"page_size":1,"page_number":1}},"locale":"eng"}]}}`,
		at.UnixNano(), i, ts, callback, at.UnixNano(), i, i, ts, person)
	resp, err := outbound.Post(ctx, c, outbound.Request{URL: url, Body: []byte(body), Token: token, Limit: maxAnswer})
	if err != nil {
		return "", err
	}
	var ack struct {
		Message struct {
			AckStatus     string `json:"ack_status"`
			CorrelationID string `json:"correlation_id"`
		} `json:"message"`
	}
	if err := json.Unmarshal(resp.Body, &ack); err != nil || resp.Status != http.StatusAccepted || ack.Message.AckStatus != "ACK" {
		return "", fmt.Errorf("status %d, ack %q", resp.Status, ack.Message.AckStatus)
	}
	return ack.Message.CorrelationID, nil
}

// predicateClients is how many clients the predicate search runs with: it is a latency
// figure, so a few, to measure the search rather than the queue in front of two processors.
const predicateClients = 4

// predicateSearch measures a predicate search through the hub: persons born before 1950
// in a region, ten a page, over regions and pages in turn, by the pension fund (whose
// answers are then kept to its pensioners).
func predicateSearch(ctx context.Context, o DCIOptions, st *hub.Stores, base string, r *Result) error {
	places, err := st.Civil.Population().Places(ctx)
	if err != nil {
		return err
	}
	var regions []string
	for _, p := range places {
		if p.Parent == "" {
			regions = append(regions, p.Code)
		}
	}
	secret, err := st.Directory.IssueClientSecret(ctx, "bench", synth.AppID(synth.PensionFund))
	if err != nil {
		return err
	}
	token, err := clientToken(ctx, base, synth.AppID(synth.PensionFund), secret)
	if err != nil {
		return err
	}
	url := base + "/dci/crvs/registry/sync/search"
	l := drive(ctx, predicateClients, o.Duration/5, func(ctx context.Context, c *http.Client, i int) error {
		ts := time.Now().UTC().Format(time.RFC3339)
		body := fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":"p%d-%d","message_ts":%q,"action":"search","sender_id":"bench","total_count":1},`+
			`"message":{"transaction_id":"p%d","search_request":[{"reference_id":"r","timestamp":%q,"search_criteria":{"query_type":"predicate","query":[`+
			`{"seq_num":1,"expression1":{"attribute_name":"birth_date","operator":"lt","attribute_value":"1950-01-01"},"condition":"and",`+
			`"expression2":{"attribute_name":"address.region","operator":"eq","attribute_value":%q}}],"pagination":{"page_size":10,"page_number":%d}},"locale":"eng"}]}}`,
			epoch, messages.Add(1), ts, i, ts, regions[i%len(regions)], 1+i/len(regions)%20)
		return post(ctx, c, url, token, body, `"succ"`)
	})
	r.add("predicate_clients", "predicate search: concurrent clients", predicateClients, "")
	r.add("predicate_rps", "predicate search (born before 1950 in a region, page of 10): requests/s", round(l.rps()), "/s")
	r.add("predicate_p50_ms", "predicate search: p50", decimals(ms(l.all.percentile(50)), 3), "ms")
	r.add("predicate_p99_ms", "predicate search: p99", decimals(ms(l.all.percentile(99)), 3), "ms")
	r.add("predicate_errors", "predicate search: errors", l.errors, "")
	return nil
}

// post sends a DCI message (with token, if any) and checks that the answer is 200 and
// holds want.
func post(ctx context.Context, c *http.Client, url, token, body, want string) error {
	resp, err := outbound.Post(ctx, c, outbound.Request{URL: url, Body: []byte(body), Token: token, Limit: maxAnswer})
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), want) {
		return fmt.Errorf("status %d: %.300s", resp.Status, resp.Body)
	}
	return nil
}

// maxAnswer bounds what the benchmarks read of an answer.
const maxAnswer = 16 << 20
