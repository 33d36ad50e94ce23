package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// EventsOptions configure the mutations benchmark.
type EventsOptions struct {
	Data     string
	Duration time.Duration
	Rate     float64 // mutations per second
}

// Events records changes of address in the civil register at Rate for Duration, with
// every push subscription pointed at a local subscriber, and measures the deliveries:
// how many per second, and the time from the change's commit to its receipt.
func Events(ctx context.Context, o EventsOptions) (*Result, error) {
	st, err := hub.Open(ctx, hub.Config{Store: "sqlite:" + filepath.Join(o.Data, "hub.db"), Civil: "sqlite:" + filepath.Join(o.Data, "civil.db")})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	rx := &receipts{committed: map[string]time.Time{}, early: map[string]time.Time{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: rx, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	subs, err := pointSubscriptions(ctx, st.Directory, "http://"+ln.Addr().String()+"/")
	if err != nil {
		return nil, err
	}
	persons, err := filesOf(ctx, st.Directory, synth.PensionFund, 20000)
	if err != nil {
		return nil, err
	}
	var res *Result
	err = throughHub(ctx, ExchangeOptions{Data: o.Data}, st, false, "", func(string, string) {
		time.Sleep(1500 * time.Millisecond) // the hub picks up the subscribers' endpoints
		res = mutate(ctx, o, st.Civil.Population(), persons, rx, subs)
	})
	return res, err
}

// pointSubscriptions points every push subscription at base+<id>.
func pointSubscriptions(ctx context.Context, d *directory.Directory, base string) (int, error) {
	n := 0
	q := directory.ListQuery{Limit: 1000}
	page, err := directory.List[directory.Subscription](ctx, d, q, nil)
	if err != nil {
		return 0, err
	}
	for _, s := range page.Items {
		if s.Mode != directory.ModePush || !s.Active() {
			continue
		}
		s.Endpoint = base + s.ID
		if _, _, err := directory.Put(ctx, d, "bench", s, directory.AnyVersion); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// receipts is the subscribers' endpoint: it notes when each delivery arrives.
type receipts struct {
	mu        sync.Mutex
	committed map[string]time.Time // "civil:<seq>" → commit time
	early     map[string]time.Time // receipts of mutations not yet noted as committed
	lat       latencies
	n         atomic.Int64
	first     time.Time
	last      time.Time
}

func (rx *receipts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	key := r.Header.Get("Idempotency-Key")
	mutation, _, _ := strings.Cut(key, "/")
	w.WriteHeader(http.StatusOK)
	rx.mu.Lock()
	defer rx.mu.Unlock()
	if rx.first.IsZero() {
		rx.first = now
	}
	rx.last = now
	rx.n.Add(1)
	if at, ok := rx.committed[mutation]; ok {
		rx.lat = append(rx.lat, now.Sub(at))
	} else {
		rx.early[key] = now
	}
}

func (rx *receipts) commit(mutation string, at time.Time) {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	rx.committed[mutation] = at
	for key, got := range rx.early {
		if strings.HasPrefix(key, mutation+"/") {
			rx.lat = append(rx.lat, got.Sub(at))
			delete(rx.early, key)
		}
	}
}

// mutate moves persons at the rate, then waits for the deliveries to stop coming.
func mutate(ctx context.Context, o EventsOptions, pop population.Store, persons []string, rx *receipts, subs int) *Result {
	start := time.Now()
	today := date.FromTime(start)
	var sent, failed int
	for i := 0; time.Since(start) < o.Duration && ctx.Err() == nil; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(float64(i) / o.Rate * float64(time.Second)))))
		p := persons[i%len(persons)]
		ev, err := pop.Record(ctx, population.Event{Type: population.EventAddress, Person: p, Date: today},
			func(pp *population.Person) error { pp.Address.HouseNumber = strconv.Itoa(1 + i%200); return nil })
		if err != nil {
			failed++
			continue
		}
		rx.commit("civil:"+strconv.FormatInt(ev.Seq, 10), time.Now())
		sent++
	}
	// Wait until no delivery came for 2 s (or 60 s in all).
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		before := rx.n.Load()
		time.Sleep(2 * time.Second)
		if rx.n.Load() == before {
			break
		}
	}
	rx.mu.Lock()
	defer rx.mu.Unlock()
	r := newResult("events")
	r.add("push_subscriptions", "push subscriptions", subs, "")
	r.add("mutations", "changes of address recorded", sent, "")
	r.add("mutations_per_s", "changes recorded per second", round(float64(sent)/o.Duration.Seconds()), "/s")
	r.add("mutation_errors", "changes that failed", failed, "")
	r.add("deliveries", "deliveries received", rx.n.Load(), "")
	span := rx.last.Sub(rx.first).Seconds()
	r.add("deliveries_per_s", "deliveries per second (first to last receipt)", round(float64(rx.n.Load())/max(span, 0.001)), "/s")
	r.add("latency_p50_ms", "commit to receipt: p50", round(ms(rx.lat.percentile(50))*100)/100, "ms")
	r.add("latency_p99_ms", "commit to receipt: p99", round(ms(rx.lat.percentile(99))*100)/100, "ms")
	r.add("note", "", fmt.Sprintf("%d receipts not matched to a commit", len(rx.early)), "")
	return r
}
