package exchange

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/limit"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// Limits bound the expensive questions — searches by filter (a source may read
// thousands of records for one) and batch consultations — so that one client cannot
// take the processors the others' look-ups need. Look-ups by identifier cost
// microseconds and are not held back.
//
// A client may have PerClient expensive questions under way; beyond, it is refused
// (429) at once. Each is charged the seconds it spent evaluating to the client's budget,
// which refills at Rate seconds a second up to Burst: a client in debt is refused until
// it is paid back. And all clients together evaluate at most Slots at once, so that on
// a small machine look-ups keep a processor whatever the filters; an admitted question
// waits up to MaxWait for a slot, in turn, else is refused (503).
type Limits struct {
	PerClient int           // expensive questions of one client under way at once
	Rate      float64       // seconds of evaluation a client regains a second
	Burst     float64       // seconds of evaluation a client may spend ahead
	Slots     int           // evaluations under way at once, all clients together
	MaxWait   time.Duration // how long an admitted question waits for a slot
	Clients   int           // clients remembered at most (see limit.Config.Keys)
	// Share is the share of one processor an evaluation may take while look-ups are
	// coming (one began in the last busyWindow; it pauses between steps, limit.Pacer):
	// they then find that processor free most of the time too. Alone, it runs at full
	// speed. 0 or 1: no pause.
	Share float64
}

// DefaultLimits are the limits of an exchange that was not given others: four
// expensive questions a client at once; a quarter of a processor's worth of evaluation
// a client on average, with five seconds ahead; one evaluation a processor for all
// clients together; ten seconds' wait at most; and while look-ups are coming, an
// evaluation pauses to take at most a fifth of its processor. While a filter runs, the
// look-ups of others slow down even with a processor to themselves (crossroads bench
// fairness: their p99 20 times as long without the pauses, about 1.5-1.9 times with
// them), so no client may keep one running all the time; alone, filters run at full
// speed (a predicate search's p99 on a 1,000,000-person nation stays under 50 ms).
func DefaultLimits() Limits {
	return Limits{PerClient: 4, Rate: 0.25, Burst: 5, Slots: runtime.GOMAXPROCS(0),
		MaxWait: 10 * time.Second, Clients: limit.DefaultKeys, Share: 0.2}
}

// PerReplica is one replica's part of l when n replicas of the hub share its clients: each
// replica admits a client's expensive questions from its own memory, so each grants
// 1/n of what is granted to a client (questions under way at once, rounded down but at
// least one; seconds of evaluation regained a second; seconds ahead), and the n together
// grant a client at most what l grants it on one hub, however its questions are spread.
// The slots (evaluations at once, all clients together) are each replica's processors
// and stay whole. n ≤ 1: l.
func (l Limits) PerReplica(n int) Limits {
	if n <= 1 {
		return l
	}
	if l.PerClient > 0 {
		l.PerClient = max(l.PerClient/n, 1)
	}
	l.Rate /= float64(n)
	l.Burst /= float64(n)
	return l
}

// busyWindow is how recently a question that is not expensive must have begun for an
// evaluation to pace itself: look-ups come in streams, and one that arrives while the
// evaluation runs a step at full speed waits for a processor.
const busyWindow = 50 * time.Millisecond

// limiter is the state of an exchange's limits.
type limiter struct {
	cfg     Limits
	clients *limit.Limiter
	slots   chan struct{} // a token in it per evaluation under way; senders queue in turn
}

func newLimiter(l Limits, now func() time.Time) *limiter {
	d := DefaultLimits()
	if l.Slots <= 0 {
		l.Slots = d.Slots
	}
	if l.MaxWait <= 0 {
		l.MaxWait = d.MaxWait
	}
	return &limiter{cfg: l, slots: make(chan struct{}, l.Slots),
		clients: limit.New(limit.Config{Concurrent: l.PerClient, Rate: l.Rate, Burst: l.Burst, Keys: l.Clients, Now: now})}
}

// SetLimits replaces the limits; questions under way finish under the ones they were
// admitted with. Zero Slots and MaxWait take the defaults; zero PerClient or Rate turn
// that limit off.
func (x *Exchange) SetLimits(l Limits) { x.limits.Store(newLimiter(l, x.now)) }

func (x *Exchange) limiter() *limiter {
	if l := x.limits.Load(); l != nil {
		return l
	}
	x.limits.CompareAndSwap(nil, newLimiter(DefaultLimits(), x.now))
	return x.limits.Load()
}

// admit lets an expensive question of ask's client go ahead, or refuses it with a
// *fault.Error carrying a *limit.Refused; release ends it and charges its cost, and the
// context it returns paces its evaluation (limit.Pace). Any other question goes ahead at
// once.
func (x *Exchange) admit(ctx context.Context, ask Ask) (_ context.Context, release func(), err error) {
	if ask.Query.Kind != query.KindFilter {
		x.lastAsk.Store(x.now().UnixNano())
		return ctx, func() {}, nil
	}
	l := x.limiter()
	t, err := l.clients.Take(ask.Caller.ClientID, 0)
	if err != nil {
		return ctx, nil, tooMany(ask.Caller.ClientID, "searches by filter", err)
	}
	// The caller announced this question's record (Expect) for the audit writer to wait
	// for; it will not come while the question waits and runs, so other clients' records
	// are not held back for it meanwhile.
	coming := x.Expect(-1)
	wait, cancel := context.WithTimeout(ctx, l.cfg.MaxWait)
	defer cancel()
	start, err := l.take(wait, x.now)
	if err != nil {
		coming()
		t.Done(0)
		return ctx, nil, err
	}
	busy := func() bool { return x.now().UnixNano()-x.lastAsk.Load() < int64(busyWindow) }
	return limit.WithPacer(ctx, l.cfg.Share, busy), func() { l.free(); coming(); t.Done(x.now().Sub(start).Seconds()) }, nil
}

// take waits for an evaluation slot, in turn, and returns when it got it.
func (l *limiter) take(ctx context.Context, now func() time.Time) (time.Time, error) {
	select {
	case l.slots <- struct{}{}:
		return now(), nil
	case <-ctx.Done():
		return time.Time{}, fault.Unavailablef(&limit.Refused{After: time.Second, Why: ctx.Err().Error()},
			"the hub is busy with other clients' searches by filter; retry shortly")
	}
}

func (l *limiter) free() { <-l.slots }

func tooMany(client, what string, err error) error {
	s, _ := limit.RetryAfter(err)
	return fault.TooManyf(err, "%s: too many %s: %v; retry after %d s", client, what, err, s)
}

// limited is the answer to a question the limits held back: refused, recorded like any
// refusal, with 429 (the client's own limits) or 503 (the hub's).
func limited(ans Answer, err error) Answer {
	ans.Decision.Permit, ans.Decision.Code = false, DenyLimited
	ans.Decision.Reasons = append(ans.Decision.Reasons, fault.KindOf(err).String()+": "+err.Error())
	ans.Err, ans.Status = err, 503
	if fault.KindOf(err) == fault.TooMany {
		ans.Status = 429
	}
	ans.Records, ans.Raw, ans.Total = nil, nil, 0
	return ans
}

// DenyLimited is the code of a question held back by the limits.
const DenyLimited = "too_many_requests"

// Batch is an admitted batch consultation: one of its client's expensive questions for
// as long as it runs. Its look-ups take evaluation slots in turn with the filters of
// every client, so a batch of a million persons does not take the processors either;
// the time they spend is charged to the client's budget when the batch is Done.
type Batch struct {
	x      *Exchange
	l      *limiter
	ticket *limit.Ticket
	mu     sync.Mutex
	spent  time.Duration
}

// StartBatch admits a batch consultation of ask's caller, or refuses it: the answer to
// record (Seal) and send, with Err set. Ask holds what the batch's questions share.
func (x *Exchange) StartBatch(ask Ask) (*Batch, Answer) {
	l := x.limiter()
	t, err := l.clients.Take(ask.Caller.ClientID, 0)
	if err != nil {
		return nil, limited(Answer{}, tooMany(ask.Caller.ClientID, "expensive questions (batch consultations, searches by filter)", err))
	}
	return &Batch{x: x, l: l, ticket: t}, Answer{}
}

// Search answers one look-up of the batch (a question by identifier) as Exchange.Search
// does, once an evaluation slot is free.
func (b *Batch) Search(ctx context.Context, ask Ask) Answer {
	if ask.Query.Kind != query.KindID {
		return Answer{Err: fault.Invalidf("query", "a batch consultation asks by identifier"), Status: 400,
			Decision: Decision{Code: DenyInvalid, Reasons: []string{"a batch consultation asks by identifier"}}}
	}
	start, err := b.l.take(ctx, b.x.now)
	if err != nil {
		return limited(Answer{}, err)
	}
	ans := b.x.Search(ctx, ask)
	b.l.free()
	b.mu.Lock()
	b.spent += max(b.x.now().Sub(start), ItemCost)
	b.mu.Unlock()
	return ans
}

// ItemCost is what each question of a batch is charged at least: about what a look-up
// and its audit record cost the hub's processors. A refused line is decided in a
// microsecond, but its record costs as much as an answered one's; charged alike, a flood
// of refusals reaches the limits as a flood of answers does.
const ItemCost = 50 * time.Microsecond

// Charge charges n questions of the batch that were not asked (a batch refused as a
// whole, Exchange.Refusal) at ItemCost each.
func (b *Batch) Charge(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.spent += time.Duration(n) * ItemCost
}

// Done ends the batch and charges the time its look-ups spent.
func (b *Batch) Done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ticket.Done(b.spent.Seconds())
}
