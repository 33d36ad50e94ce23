package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// EventsOptions configure the mutations benchmark.
type EventsOptions struct {
	Data     string
	Duration time.Duration
	Rate     float64 // mutations per second

	// Outage, when set, makes one subscriber (the pension fund's, which hears of every
	// change the benchmark records) answer 503 for that long in the middle of the run,
	// which lasts at least Outage+20s; a control subscription of the same institution,
	// always up, receives the same copies and tells what it was owed.
	Outage time.Duration
	// Drain holds every subscriber's answers while the changes are recorded (at most
	// 8 s: the hub gives up on a request after 10 s), then releases them: the figure is
	// then the rate at which the backlog drains.
	Drain bool
	// Fanout adds this many institutions (BENCH-FANOUT-1, …) that each hold a file on every
	// person the benchmark changes, an authorization for the register's address data and a
	// push subscription for changes of address: each change reaches that many more
	// subscribers, as a move or a death reaches a dozen institutions in a real network.
	Fanout int
}

// drainHoldMax is the longest the subscribers hold their answers in a drain run.
const drainHoldMax = 8 * time.Second

// Events records changes of address in the civil register at Rate for Duration, with
// every push subscription pointed at a local subscriber, and measures the deliveries:
// how many copies (events of the notify messages, not requests) per second, whether
// each person's arrived in order, and the time from the change's commit to its receipt.
func Events(ctx context.Context, o EventsOptions) (*Result, error) {
	if o.Drain && o.Duration > drainHoldMax {
		return nil, fmt.Errorf("a drain run records for at most %s (the hub gives up on a request after 10 s)", drainHoldMax)
	}
	if o.Drain && o.Outage > 0 {
		return nil, fmt.Errorf("--drain and --outage are separate runs")
	}
	if o.Outage > 0 && o.Duration < o.Outage+20*time.Second {
		o.Duration = o.Outage + 20*time.Second
	}
	st, err := hub.Open(ctx, hub.Config{Store: "sqlite:" + filepath.Join(o.Data, "hub.db"), Civil: "sqlite:" + filepath.Join(o.Data, "civil.db")})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	rx := newReceipts()
	if o.Drain {
		rx.hold = make(chan struct{})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: rx, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String() + "/"
	if o.Outage > 0 {
		rx.down = "sub-" + strings.ToLower(synth.PensionFund)
		rx.control = rx.down + "-control"
		down, _, err := directory.Get[directory.Subscription](ctx, st.Directory, rx.down)
		if err != nil {
			return nil, err
		}
		control := down
		control.ID = rx.control
		if _, _, err := directory.Put(ctx, st.Directory, "bench", control, directory.AnyVersion); err != nil {
			return nil, err
		}
		defer directory.Delete[directory.Subscription](context.WithoutCancel(ctx), st.Directory, "bench", rx.control)
	}
	persons, err := filesOf(ctx, st.Directory, synth.PensionFund, 20000)
	if err != nil {
		return nil, err
	}
	if err := addFanout(ctx, st.Directory, persons, o.Fanout); err != nil {
		return nil, err
	}
	subs, err := pointSubscriptions(ctx, st.Directory, base)
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

// addFanout adds n institutions with a file on each of persons, an authorization for
// the civil register's address data and a push subscription for changes of address (the
// endpoints are set by pointSubscriptions). Run again on the same data, it finds them.
func addFanout(ctx context.Context, d *directory.Directory, persons []string, n int) error {
	today := d.Today()
	for i := 1; i <= n; i++ {
		code := fmt.Sprintf("BENCH-FANOUT-%d", i)
		if _, _, err := directory.Get[directory.Institution](ctx, d, code); err == nil {
			continue
		}
		enterprise, err := ident.MakeEnterprise(5_000_000 + i)
		if err != nil {
			return err
		}
		lines := make([]directory.Line, len(persons))
		for j, p := range persons {
			lines[j] = directory.Line{Integration: directory.Integration{Person: p, Institution: code, Capacity: directory.CapacityDefinitive, Begin: today.AddDays(-1)}}
		}
		for _, v := range []any{
			directory.Institution{Code: code, Name: fmt.Sprintf("Benchmark subscriber %d", i), Sector: "social", Kind: "fund", Enterprise: enterprise.String()},
			directory.Authorization{ID: "AUTH-" + code, Institution: code, Service: synth.CivilPerson, Purpose: "benchmark",
				Fields: []string{"person", "given_name", "family_name", "address"}, LegalBasis: "benchmark", Capacities: []string{directory.CapacityDefinitive},
				ValidFrom: today.AddDays(-1), Decision: "benchmark"},
			directory.Subscription{ID: "sub-" + strings.ToLower(code), Institution: code, EventTypes: []string{"address"},
				Capacities: []string{directory.CapacityDefinitive}, Mode: directory.ModePush, Endpoint: "http://127.0.0.1:9/"},
		} {
			var err error
			switch v := v.(type) {
			case directory.Institution:
				_, _, err = directory.Put(ctx, d, "bench", v, directory.AnyVersion)
			case directory.Authorization:
				_, _, err = directory.Put(ctx, d, "bench", v, directory.AnyVersion)
			case directory.Subscription:
				_, _, err = directory.Put(ctx, d, "bench", v, directory.AnyVersion)
			}
			if err != nil {
				return fmt.Errorf("fan-out institution %s: %w", code, err)
			}
		}
		rep, err := d.Integrate(ctx, "bench", lines, directory.Atomic)
		if err == nil && rep.Applied != len(lines) {
			err = fmt.Errorf("%d of %d lines applied", rep.Applied, len(lines))
		}
		if err != nil {
			return fmt.Errorf("fan-out files of %s: %w", code, err)
		}
	}
	return nil
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

// receipts is the subscribers' endpoint (base+<subscription>): it reads the events of
// each notify message and notes when each copy arrives, whether it repeats one, and
// whether it arrived after a later change of the same person.
type receipts struct {
	mu        sync.Mutex
	committed map[string]time.Time // "civil:<seq>" → commit time
	early     map[string]time.Time // receipts of mutations not yet noted as committed
	lat       latencies
	n         atomic.Int64 // copies received (events)
	requests  int
	repeats   int                  // copies received again (at least once)
	disorder  int                  // copies received after a later change of the same person
	seen      map[string]bool      // keys received
	lastSeq   map[string]int64     // subscription + person → seq of the last change received
	got       map[string][]arrival // the outage subscriber's and its control's receipts
	first     time.Time
	last      time.Time
	hold      chan struct{} // drain: closed when the subscribers answer
	released  time.Time

	down, control       string    // outage: the subscription that is down, its control
	downFrom, downUntil time.Time // outage: when it answers 503
	refused             int
	downDisorder        int
}

// arrival is one copy received by the outage subscriber or its control.
type arrival struct {
	seq    int64
	person string
	at     time.Time
}

func newReceipts() *receipts {
	return &receipts{committed: map[string]time.Time{}, early: map[string]time.Time{}, seen: map[string]bool{},
		lastSeq: map[string]int64{}, got: map[string][]arrival{}}
}

// notifyMessage is what the local subscribers read of a DCI notify.
type notifyMessage struct {
	Message struct {
		NotifyEvent []struct {
			ReferenceID string `json:"reference_id"`
			Data        struct {
				RegRecords []struct {
					Person string `json:"person"`
				} `json:"reg_records"`
			} `json:"data"`
		} `json:"notify_event"`
	} `json:"message"`
}

func (rx *receipts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sub := strings.TrimPrefix(r.URL.Path, "/")
	if rx.hold != nil {
		<-rx.hold
	}
	now := time.Now()
	rx.mu.Lock()
	down := sub == rx.down && !now.Before(rx.downFrom) && now.Before(rx.downUntil)
	if down {
		rx.refused++
	}
	rx.mu.Unlock()
	if down {
		_, _ = io.Copy(io.Discard, r.Body)
		http.Error(w, "down for the benchmark", http.StatusServiceUnavailable)
		return
	}
	var m notifyMessage
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
	rx.mu.Lock()
	defer rx.mu.Unlock()
	if rx.first.IsZero() {
		rx.first = now
	}
	rx.last = now
	rx.requests++
	for _, ev := range m.Message.NotifyEvent {
		key := ev.ReferenceID
		rx.n.Add(1)
		if rx.seen[key] {
			rx.repeats++
			continue
		}
		rx.seen[key] = true
		mutation, _, _ := strings.Cut(key, "/")
		seq, _ := strconv.ParseInt(strings.TrimPrefix(mutation, "civil:"), 10, 64)
		person := ""
		if len(ev.Data.RegRecords) > 0 {
			person = ev.Data.RegRecords[0].Person
		}
		if last, ok := rx.lastSeq[sub+"\x00"+person]; ok && seq < last {
			rx.disorder++
			if sub == rx.down {
				rx.downDisorder++
			}
		} else {
			rx.lastSeq[sub+"\x00"+person] = seq
		}
		if sub != "" && (sub == rx.down || sub == rx.control) {
			rx.got[sub] = append(rx.got[sub], arrival{seq: seq, person: person, at: now})
		}
		if sub == rx.down {
			continue // its latency is the outage's: reported apart
		}
		if at, ok := rx.committed[mutation]; ok {
			rx.lat = append(rx.lat, now.Sub(at))
		} else {
			rx.early[key] = now
		}
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

// missing is how many copies the control received that the outage subscriber did not.
func (rx *receipts) missing() int {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	have := map[int64]bool{}
	for _, a := range rx.got[rx.down] {
		have[a.seq] = true
	}
	n := 0
	for _, a := range rx.got[rx.control] {
		if !have[a.seq] {
			n++
		}
	}
	return n
}

// mutate moves persons at the rate, then waits for the deliveries to stop coming.
func mutate(ctx context.Context, o EventsOptions, pop population.Store, persons []string, rx *receipts, subs int) *Result {
	start := time.Now()
	today := date.FromTime(start)
	if o.Outage > 0 {
		rx.mu.Lock()
		rx.downFrom = start.Add((o.Duration - o.Outage) / 2)
		rx.downUntil = rx.downFrom.Add(o.Outage)
		rx.mu.Unlock()
	}
	// One recorder: the register has one writer, and recorders side by side record
	// fewer changes a second, not more (measured: 4,000/s alone, 2,750/s with four).
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
	recorded := time.Since(start)
	if rx.hold != nil {
		rx.mu.Lock()
		rx.released = time.Now()
		rx.first = time.Time{} // the drain starts now
		rx.mu.Unlock()
		close(rx.hold)
	}
	// Wait until no delivery came for 2 s (or 60 s in all); after an outage, until the
	// subscriber that was down has what its control has (or 60 s plus two back-offs).
	if o.Outage > 0 {
		for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline) && rx.missing() > 0; {
			time.Sleep(500 * time.Millisecond)
		}
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		before := rx.n.Load()
		time.Sleep(2 * time.Second)
		if rx.n.Load() == before {
			break
		}
	}
	missing := 0
	if o.Outage > 0 {
		missing = rx.missing()
	}
	rx.mu.Lock()
	defer rx.mu.Unlock()
	r := newResult("events")
	r.add("push_subscriptions", "push subscriptions", subs, "")
	r.add("mutations", "changes of address recorded", sent, "")
	r.add("mutations_per_s", "changes recorded per second", round(float64(sent)/recorded.Seconds()), "/s")
	r.add("mutation_errors", "changes that failed", failed, "")
	r.add("deliveries", "copies received (events, repeats included)", rx.n.Load(), "")
	r.add("notify_requests", "notify messages received", rx.requests, "")
	r.add("events_per_notify", "copies per notify message", round(float64(rx.n.Load())/float64(max(rx.requests, 1))), "")
	span := rx.last.Sub(rx.first).Seconds()
	if rx.hold != nil {
		r.add("drain_s", "recording with every subscriber holding its answers", round(recorded.Seconds()), "s")
		r.add("deliveries_per_s", "backlog drain: copies per second (release to last receipt)", round(float64(rx.n.Load())/max(rx.last.Sub(rx.released).Seconds(), 0.001)), "/s")
	} else {
		r.add("deliveries_per_s", "copies per second (first to last receipt)", round(float64(rx.n.Load())/max(span, 0.001)), "/s")
	}
	r.add("repeats", "copies received more than once", rx.repeats, "")
	r.add("out_of_order", "copies received after a later change of the same person", rx.disorder, "")
	label := "commit to receipt"
	if o.Outage > 0 {
		label += " (the subscriber that was down left out)"
	}
	r.add("latency_p50_ms", label+": p50", decimals(ms(rx.lat.percentile(50)), 3), "ms")
	r.add("latency_p99_ms", label+": p99", decimals(ms(rx.lat.percentile(99)), 3), "ms")
	if o.Outage > 0 {
		r.add("outage_s", rx.down+" answering 503", o.Outage.Seconds(), "s")
		r.add("outage_refused", "notify messages it refused", rx.refused, "")
		r.add("outage_owed", "copies owed to it (received by its control, "+rx.control+")", len(rx.got[rx.control]), "")
		after, backlog := 0, 0
		var firstAfter, caughtUp time.Duration
		for _, a := range rx.got[rx.down] {
			if !a.at.Before(rx.downUntil) {
				after++
				if firstAfter == 0 {
					firstAfter = a.at.Sub(rx.downUntil)
				}
			}
		}
		// The copies of changes committed before the end of the outage that it had not
		// received then: when the last of them arrived.
		committedBy := map[int64]bool{}
		for m, at := range rx.committed {
			if at.Before(rx.downUntil) {
				seq, _ := strconv.ParseInt(strings.TrimPrefix(m, "civil:"), 10, 64)
				committedBy[seq] = true
			}
		}
		for _, a := range rx.got[rx.down] {
			if committedBy[a.seq] && !a.at.Before(rx.downUntil) {
				backlog++
				caughtUp = max(caughtUp, a.at.Sub(rx.downUntil))
			}
		}
		r.add("outage_received_after", "copies it received after coming back", after, "")
		r.add("outage_backlog", "of which changes committed before it came back", backlog, "")
		r.add("outage_first_after_s", "first copy after coming back", round(firstAfter.Seconds()), "s")
		r.add("outage_caught_up_s", "last of that backlog, after coming back", round(caughtUp.Seconds()), "s")
		r.add("outage_missed", "copies owed and never received", missing, "")
		r.add("outage_in_order", "each person's copies in order", rx.downDisorder == 0, "")
	}
	r.add("note", "", fmt.Sprintf("%d receipts not matched to a commit", len(rx.early)), "")
	return r
}
