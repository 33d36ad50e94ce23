package exchange

import (
	"context"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/limit"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// testClock is a time moved by hand (here, by the source: a search "takes" cost).
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// gateSource is a source whose searches tell when they start, take cost on the clock and
// wait until the gate opens.
type gateSource struct {
	clock   *testClock
	cost    time.Duration
	started chan struct{}
	gate    chan struct{} // nil: do not wait
}

// SearchesInScope: the exchange sends filters under a scoped authorization only to a
// source that searches within the scope.
func (s *gateSource) SearchesInScope() bool { return true }

func (s *gateSource) Search(ctx context.Context, r SourceRequest) (SourceResult, error) {
	s.started <- struct{}{}
	if s.gate != nil {
		<-s.gate
	}
	s.clock.add(s.cost)
	return SourceResult{}, nil
}

// countingRecorder records nothing but counts the records announced as coming.
type countingRecorder struct{ coming atomic.Int64 }

func (r *countingRecorder) Record(ctx context.Context, e Entry) (int64, error) { return 1, nil }
func (r *countingRecorder) Expect(n int) func() {
	r.coming.Add(int64(n))
	return func() { r.coming.Add(-int64(n)) }
}

var (
	pensionApp = Caller{ClientID: "pension-app", Institution: "PENSION-FUND"}
	otherApp   = Caller{ClientID: "other-app", Institution: "PENSION-FUND"}
	scan       = query.Query{Kind: query.KindFilter, Filter: &query.Cond{Op: query.Eq, Attr: "family_name", Value: "Lee"}}
	lookupPN   = query.Query{Kind: query.KindID, IDType: "PN", IDValue: "85073003328"}
)

func limitedExchange(t *testing.T, l Limits, src *gateSource, rec Recorder) *Exchange {
	t.Helper()
	x := New(testPolicy(t), oneSource{src}, rec, src.clock.now)
	x.SetLimits(l)
	return x
}

func newGate(cost time.Duration) *gateSource {
	return &gateSource{clock: &testClock{t: day.Time()}, cost: cost, started: make(chan struct{}, 100), gate: make(chan struct{})}
}

// result says how a question ended: its status, and the Retry-After of a refusal.
func result(ans Answer) string {
	s := itoa(ans.Status)
	if secs, ok := limit.RetryAfter(ans.Err); ok {
		s += " retry " + itoa(secs) + "s"
	}
	return s
}

func TestFiltersOfOneClientAreLimited(t *testing.T) {
	src := newGate(0)
	rec := &countingRecorder{}
	x := limitedExchange(t, Limits{PerClient: 2, Slots: 10}, src, rec)
	ctx := context.Background()
	ask := func(c Caller, q query.Query) Answer {
		return x.Search(ctx, Ask{Caller: c, Service: "civil-person", Query: q})
	}
	done := make(chan Answer, 3)
	for _, c := range []Caller{pensionApp, pensionApp, otherApp} {
		go func() {
			defer x.Expect(1)()
			done <- ask(c, scan)
		}()
		<-src.started
	}
	if got := rec.coming.Load(); got != 0 {
		t.Errorf("%d records announced while the filters run; want none (they are not coming soon)", got)
	}
	third := ask(pensionApp, scan)
	if got := result(third); got != "429 retry 1s" || fault.KindOf(third.Err) != fault.TooMany || third.Decision.Permit || third.Decision.Code != DenyLimited {
		t.Errorf("a third filter of the client: %s %v (%+v); want 429, retry 1s, refused as too_many_requests", got, third.Err, third.Decision)
	}
	go func() { done <- ask(otherApp, lookupPN) }()
	<-src.started
	close(src.gate)
	for range 4 {
		if ans := <-done; ans.Status != 200 {
			t.Errorf("a question under way: %s %v; want 200", result(ans), ans.Err)
		}
	}
	if got := result(ask(pensionApp, scan)); got != "200" {
		t.Errorf("a filter once the others are over: %s; want 200", got)
	}
}

func TestFiltersAreChargedTheirTime(t *testing.T) {
	src := newGate(3 * time.Second)
	src.gate = nil
	x := limitedExchange(t, Limits{PerClient: 4, Rate: 1, Burst: 2, Slots: 1}, src, &memRecorder{})
	ask := func(c Caller) string {
		return result(x.Search(context.Background(), Ask{Caller: c, Service: "civil-person", Query: scan}))
	}
	steps := []struct {
		caller Caller
		wait   time.Duration
		want   string
	}{
		{pensionApp, 0, "200"},                               // 2 s of budget, 3 s spent: 1 s in debt
		{pensionApp, 0, "429 retry 2s"},                      // (1 s of debt + a little) at 1 s a second
		{pensionApp, 500 * time.Millisecond, "429 retry 1s"}, // half of it paid back
		{pensionApp, 600 * time.Millisecond, "200"},
		{otherApp, 0, "200"}, // another client has its own budget
	}
	for i, s := range steps {
		src.clock.add(s.wait)
		if got := ask(s.caller); got != s.want {
			t.Errorf("step %d: %s's filter = %s; want %s", i, s.caller.ClientID, got, s.want)
		}
		for len(src.started) > 0 {
			<-src.started
		}
	}
}

func TestFiltersShareTheSlots(t *testing.T) {
	src := newGate(0)
	x := limitedExchange(t, Limits{PerClient: 4, Slots: 1, MaxWait: time.Millisecond}, src, &memRecorder{})
	ctx := context.Background()
	first := make(chan Answer, 1)
	go func() { first <- x.Search(ctx, Ask{Caller: pensionApp, Service: "civil-person", Query: scan}) }()
	<-src.started
	busy := x.Search(ctx, Ask{Caller: otherApp, Service: "civil-person", Query: scan})
	if got := result(busy); got != "503 retry 1s" || fault.KindOf(busy.Err) != fault.Unavailable {
		t.Errorf("a filter while the only slot is taken, after the longest wait: %s %v; want 503, retry 1s", got, busy.Err)
	}
	look := make(chan Answer, 1)
	go func() { look <- x.Search(ctx, Ask{Caller: otherApp, Service: "civil-person", Query: lookupPN}) }()
	<-src.started // a look-up needs no slot
	close(src.gate)
	if ans := <-look; ans.Status != 200 {
		t.Errorf("a look-up while the filter slot is taken: %s; want 200", result(ans))
	}
	if ans := <-first; ans.Status != 200 {
		t.Errorf("the filter that had the slot: %s; want 200", result(ans))
	}
}

func TestBatchIsAnExpensiveQuestion(t *testing.T) {
	src := newGate(time.Second)
	src.gate = nil
	x := limitedExchange(t, Limits{PerClient: 1, Rate: 1, Burst: 1.5, Slots: 1}, src, &memRecorder{})
	ctx := context.Background()
	base := Ask{Caller: pensionApp, Service: "civil-person"}
	b, refused := x.StartBatch(base)
	if refused.Err != nil {
		t.Fatal(refused.Err)
	}
	if _, again := x.StartBatch(base); again.Status != 429 {
		t.Errorf("a second batch of the client at once: %s; want 429", result(again))
	}
	if got := result(x.Search(ctx, Ask{Caller: pensionApp, Service: "civil-person", Query: scan})); got != "429 retry 1s" {
		t.Errorf("a filter of the client during its batch: %s; want 429", got)
	}
	for range 2 {
		ask := base
		ask.Query = lookupPN
		if ans := b.Search(ctx, ask); ans.Status != 200 {
			t.Errorf("a look-up of the batch: %s %v", result(ans), ans.Err)
		}
		<-src.started
	}
	if ans := b.Search(ctx, Ask{Caller: pensionApp, Service: "civil-person", Query: scan}); ans.Status != 400 {
		t.Errorf("a filter in a batch: %s; want 400", result(ans))
	}
	b.Done() // 2 s of look-ups charged to a budget of 1.5 s
	if got := result(x.Search(ctx, Ask{Caller: pensionApp, Service: "civil-person", Query: scan})); got != "429 retry 1s" {
		t.Errorf("a filter after a batch that spent the budget: %s; want 429", got)
	}
}

func TestSealBoundsCallerText(t *testing.T) {
	rec := &memRecorder{}
	x := newTestExchange(t, &fakeSource{}, rec)
	huge := strings.Repeat("é", 50_000)
	ask := Ask{Caller: Caller{ClientID: huge, Institution: huge}, Service: huge, Purpose: huge, MessageID: huge}
	reasons := make([]string, 100)
	for i := range reasons {
		reasons[i] = huge
	}
	ans := Answer{Status: 403, Decision: Decision{Reasons: reasons, Authorization: huge, Fields: reasons}, Persons: []string{"85073003328"}}
	if _, err := x.Seal(context.Background(), ask, ans, nil); err != nil {
		t.Fatal(err)
	}
	e := rec.entries[0]
	size := 0
	for _, s := range append([]string{e.Client, e.Institution, e.Service, e.Purpose, e.MessageID, e.Authorization}, append(e.Reasons, e.Fields...)...) {
		size += len(s)
		if !strings.HasSuffix(s, "bytes)") && !strings.HasSuffix(s, "more)") {
			t.Errorf("%.40q… does not say it was clipped", s)
		}
		if !utf8Valid(s) {
			t.Errorf("%.40q… was cut inside a character", s)
		}
	}
	if size > 24<<10 || len(e.Reasons) != MaxAuditReasons+1 || len(e.Persons) != 1 {
		t.Errorf("the entry holds %d bytes of text, %d reasons, %d persons; want at most 24 KiB, %d reasons, the person", size, len(e.Reasons), len(e.Persons), MaxAuditReasons+1)
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestClipText(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven cha… (11 bytes)"},
		{"ééééé", 3, "é… (10 bytes)"},
	} {
		if got := clipText(c.in, c.n); got != c.want {
			t.Errorf("clipText(%q, %d) = %q; want %q", c.in, c.n, got, c.want)
		}
	}
}

// TestLimitsPerReplica: n exchanges (replicas), each with its share of a client's
// limits (Limits.PerReplica) and a memory of its own, admit a client's filters spread
// round robin about as many as one exchange with the whole limits admits (at most one
// more a replica: a question is admitted while the budget is not in debt, and charged
// when it ends); with the whole limits each, n times as many.
func TestLimitsPerReplica(t *testing.T) {
	const n, asks = 3, 60
	whole := Limits{PerClient: 6, Rate: 0.3, Burst: 3, Slots: 8}
	admitted := func(replicas int, l Limits) int {
		clock := &testClock{t: day.Time()}
		var xs []*Exchange
		for range replicas {
			src := &gateSource{clock: clock, cost: time.Second, started: make(chan struct{}, asks)}
			xs = append(xs, limitedExchange(t, l, src, &memRecorder{}))
		}
		ok := 0
		for i := range asks {
			if ans := xs[i%replicas].Search(context.Background(), Ask{Caller: pensionApp, Service: "civil-person", Query: scan}); ans.Status == 200 {
				ok++
			}
			clock.add(100 * time.Millisecond)
		}
		return ok
	}
	one := admitted(1, whole)
	shared := admitted(n, whole.PerReplica(n))
	each := admitted(n, whole)
	t.Logf("filters admitted of %d: one exchange %d, %d replicas with their share %d, with the whole limits each %d", asks, one, n, shared, each)
	if shared > one+n-1 {
		t.Errorf("%d replicas with their share admitted %d filters; one exchange %d: want at most %d", n, shared, one, one+n-1)
	}
	if each <= one+n-1 {
		t.Errorf("with the whole limits each, %d replicas admitted %d; one exchange %d: the test does not tell shares from wholes", n, each, one)
	}
	if l := whole.PerReplica(n); l.PerClient != 2 || math.Abs(l.Rate-0.1) > 1e-9 || l.Burst != 1 || l.Slots != 8 {
		t.Errorf("PerReplica(%d) = %+v; want 2 at once, 0.1 s/s, 1 s ahead, the slots whole", n, l)
	}
}
