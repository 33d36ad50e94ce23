// Package events is the automatic communication of changes (issue #5): the pipeline
// that carries a change in an authentic source to the institutions that may hear of it,
// over the event bus (internal/bus), in three stages:
//
//	relay:   the civil register's event log (its outbox: an event is written in the
//	         transaction of its change, with the person as that change left it, which
//	         is what is sent) → stream MUTATIONS, subject mutations.civil.<lane>,
//	         message id "civil:<seq>", so a republish after a crash is dropped by the
//	         stream's duplicate window (relay.go); a remote source's notify is taken on
//	         as mutations.remote.<lane> (Ingest, remote.go);
//	route:   four queues (lanes by person), each in order, a batch of up to 100
//	         mutations at a time → mutations.Router decides the recipients (file,
//	         subscription, authorization), each decision is audited (the batch's records
//	         appended together), each copy minimised → stream DELIVERIES, subject
//	         deliveries.<subscription>.<lane>, id the copy's idempotency key, the batch's
//	         copies published in order; the mutations are acknowledged after (route.go);
//	deliver: per push subscription, four queues (lanes), a person always in the same
//	         lane; each lane sends what is waiting, up to 100 copies, as ONE DCI notify
//	         (one event per copy, in order, reference_id = the copy's key), signed by the
//	         hub, and takes nothing more until that batch is acknowledged (the subscriber
//	         sees a person's changes in order); 2xx acknowledges, anything else and the
//	         lane sends the same batch again with exponential back-off and jitter;
//	         copies too old are set aside in stream DEAD (deliver.go, notify.go).
//
// A pull subscription takes its copies itself (pull.go). Operators see the outcomes
// (tail.go) and each subscription's backlog, list and send again what was set aside
// (operations.go).
//
// The relay starts at the end of the log on its first run: a nation's synthetic history
// is not replayed to subscribers. At-least-once: a crash between a stage's output and
// its acknowledgement repeats work, and the idempotency keys make the repeats
// recognisable.
package events

import (
	"cmp"
	"context"
	"hash/fnv"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/bus"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/lease"
	"github.com/crossroads-hub/crossroads/internal/metrics"
	"github.com/crossroads-hub/crossroads/internal/mutations"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/population"
)

const (
	streamMutations  = "MUTATIONS"
	streamDeliveries = "DELIVERIES"
	streamDead       = "DEAD" // copies given up on, by subscription, until sent again
	mutationsMaxAge  = 30 * 24 * time.Hour
	deliveriesMaxAge = 14 * 24 * time.Hour
	eventsRefresh    = time.Second
)

// Config is what the pipeline runs on; the hub gives it.
type Config struct {
	Bus   *bus.Bus
	Civil population.Store // the civil register: its event log is the outbox
	// Registries are the built-in derived registries, by kind: their changes are in the
	// civil register's log and carry their records.
	Registries map[string]*derived.Source
	// Service names the directory service of a built-in source ("civil", a registry's
	// kind): the one whose endpoint is builtin:<name>; "": none, and its changes are
	// withheld from everyone.
	Service func(builtin string) string
	// Subscriptions lists every subscription of the directory; read every second.
	Subscriptions func(ctx context.Context) ([]directory.Subscription, error)
	Files         func(person string, day date.Date) []directory.Integration // the person index
	Policy        func() *exchange.Policy                                    // the policy in force
	Audit         *audit.Log
	Keys          *oauth.KeySet // signs the notify messages and the push tokens
	Client        *http.Client  // posts the pushes; it must not follow redirects
	Log           *slog.Logger
	Metrics       *metrics.Registry // nil: a registry of its own
	// MaxAge is how long a copy is retried before it is set aside; 0: 24 h.
	MaxAge time.Duration
	// Leases share the relay, the router and the push deliverers among the replicas of
	// the hub: one replica runs them at a time (the lease "events"); nil: lease.Local,
	// this process alone.
	Leases lease.Locker
}

// Pipeline is the running relay, router and deliverers, and what operators and pull
// subscribers ask of them.
type Pipeline struct {
	bus      *bus.Bus
	status   *bus.Bucket // the last outcome of each copy, by key, for 30 days
	position *bus.Bucket // the seq of the last event relayed, key "civil"
	civil    population.Store
	route    *route
	keys     *oauth.KeySet
	client   *http.Client
	log      *slog.Logger
	out      *outcomes
	maxAge   time.Duration // how long a copy is retried before it is set aside
	listSubs func(ctx context.Context) ([]directory.Subscription, error)

	subs    atomic.Pointer[[]directory.Subscription] // in force
	mu      sync.Mutex
	running map[string]deliverer // push deliveries, by subscription
	wg      sync.WaitGroup
	stop    context.CancelFunc

	leases lease.Locker

	pullMu      sync.Mutex
	pulled      *bus.Bucket   // the hand-outs of pulled copies not yet acknowledged (pull.go); nil until a first pull
	pullAckWait time.Duration // how long a pulled copy waits for its acknowledgement; 0: pullAckWait

	tokens *outbound.Tokens // the push tokens, by audience

	// deadReadLimit is how many copies set aside Retry reads at once; 0: 100,000.
	deadReadLimit int
	// afterDeadRead, when set, runs between Retry's read and its purge (tests).
	afterDeadRead func()
}

// Start creates the streams, then starts the stages; they run until Close. ctx bounds
// the start only.
func Start(ctx context.Context, cfg Config) (*Pipeline, error) {
	maxAge := cmp.Or(cfg.MaxAge, 24*time.Hour)
	if err := createStreams(ctx, cfg.Bus, maxAge); err != nil {
		return nil, err
	}
	status, err := cfg.Bus.Bucket(ctx, "DELIVERY_STATUS", 30*24*time.Hour)
	if err != nil {
		return nil, err
	}
	position, err := cfg.Bus.Bucket(ctx, "RELAY", 0)
	if err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Pipeline{bus: cfg.Bus, status: status, position: position, civil: cfg.Civil, keys: cfg.Keys, client: cfg.Client, log: log,
		out: newOutcomes(cfg.Metrics, status, log), maxAge: maxAge, listSubs: cfg.Subscriptions,
		running: map[string]deliverer{}, leases: cmp.Or[lease.Locker](cfg.Leases, lease.Local{}), tokens: outbound.HubTokens(cfg.Keys, oauth.PushTokenType, outbound.SenderID)}
	p.route = &route{persons: cfg.Civil, registries: cfg.Registries, service: cfg.Service, audit: cfg.Audit, bus: cfg.Bus,
		out: p.out, log: log, decide: &mutations.Router{Files: cfg.Files, Policy: cfg.Policy,
			Subscriptions: func() []directory.Subscription { return *p.subs.Load() },
			Today:         func() date.Date { return date.FromTime(time.Now()) }}}
	if err := p.loadSubscriptions(ctx); err != nil {
		return nil, err
	}
	if err := p.relayInit(ctx); err != nil {
		return nil, err
	}
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	p.stop = stop
	p.wg.Add(2)
	go func() { defer p.wg.Done(); lease.Run(rctx, p.leases, "events", log, p.runStages) }()
	go func() { defer p.wg.Done(); p.refresh(rctx) }()
	return p, nil
}

// runStages runs the relay, the router and the push deliverers until ctx ends (the
// lease is lost, the pipeline closes): the work one replica of the hub does at a time.
// What a stage had taken and not acknowledged stays with the bus, and the next holder's
// consumers take it again first, in order (bus.Lane).
func (p *Pipeline) runStages(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		p.stopDeliverers()
	}()
	if err := p.startRouter(ctx, &wg); err != nil {
		p.log.Warn("start the router", "err", err)
		return
	}
	wg.Add(1)
	go func() { defer wg.Done(); p.relay(ctx) }()
	t := time.NewTicker(eventsRefresh)
	defer t.Stop()
	for {
		p.syncDeliverers(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// stopDeliverers stops every push deliverer and waits for them.
func (p *Pipeline) stopDeliverers() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, d := range p.running {
		d.stop()
		delete(p.running, id)
	}
}

// createStreams makes the pipeline's streams. They keep messages by age, acknowledged or
// not, so that the disk does not fill: a change is routed within moments, and a copy is
// set aside in DEAD once it is maxAge old; what a hub stopped for longer than these ages
// had not routed or delivered is lost (the relay's position is kept apart, in RELAY).
func createStreams(ctx context.Context, b *bus.Bus, maxAge time.Duration) error {
	for _, s := range []bus.Stream{
		{Name: streamMutations, Subjects: []string{"mutations.>"}, Duplicates: 10 * time.Minute, MaxAge: mutationsMaxAge},
		// Copies are ten or more a change: the server keeps the id of each for the
		// duplicate window, so DELIVERIES' is shorter (a router repeats a batch within
		// seconds, or when the hub restarts).
		{Name: streamDeliveries, Subjects: []string{"deliveries.>"}, Duplicates: 2 * time.Minute,
			MaxAge: max(deliveriesMaxAge, 2*maxAge)},
		{Name: streamDead, Subjects: []string{"dead.>"}, Duplicates: 10 * time.Minute},
	} {
		if err := b.Stream(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// Close stops the stages and waits for them. A batch not yet acknowledged stays with the
// bus, and is taken again, first, by the next start. The bus stays open: it is the
// caller's.
func (p *Pipeline) Close() {
	p.stop()
	p.wg.Wait()
	p.stopDeliverers()
}

// loadSubscriptions reads the subscriptions in force.
func (p *Pipeline) loadSubscriptions(ctx context.Context) error {
	all, err := p.listSubs(ctx)
	if err != nil {
		return err
	}
	active := all[:0]
	for _, s := range all {
		if s.Active() {
			active = append(active, s)
		}
	}
	p.subs.Store(&active)
	return nil
}

// refresh keeps the subscriptions current (runStages keeps delivery lanes for each push
// one).
func (p *Pipeline) refresh(ctx context.Context) {
	t := time.NewTicker(eventsRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := p.loadSubscriptions(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("reload subscriptions", "err", err)
		}
	}
}

// partitions is how many lanes the router and each subscription have. A person's
// changes always take the same lane, one at a time, so a subscriber sees them in order;
// the lanes run side by side. Each lane is a queue whose acknowledgement state
// JetStream writes to disk: with batches of up to 100 copies, four lanes deliver more
// than eight (measured with bench events --fanout 12: 10,100 against 7,700 copies/s).
const partitions = 4

// lane is the lane of a person's changes, in the router and in each subscription.
func lane(person string) string {
	h := fnv.New32a()
	h.Write([]byte(person))
	return strconv.Itoa(int(h.Sum32() % partitions))
}

// deliverySubject is the subject of a copy for subscription about person.
func deliverySubject(subscription, person string) string {
	return "deliveries." + subscription + "." + lane(person)
}

// consumerName makes a subscription id a valid queue name.
func consumerName(id string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '*' || r == '>' || r == ' ' {
			return '_'
		}
		return r
	}, id)
}

// sleep waits d or until ctx ends; it reports whether the whole d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ackAll acknowledges a lane's messages up to last, confirmed by the bus, so that none
// of them can be handed out again after the next batch; it retries until ctx ends.
//
// A replica that lost the lease (lease.Confirm asks the database, at once) does not
// acknowledge: the next holder recreates the lane from its acknowledgement floor and is
// handed these messages again, rather than finding them acknowledged for it.
func ackAll(ctx context.Context, log *slog.Logger, last *bus.Received) {
	for ctx.Err() == nil {
		if err := lease.Confirm(ctx); err != nil {
			if ctx.Err() == nil {
				log.Warn("a batch not acknowledged: the lease is lost", "err", err)
			}
			return
		}
		err := last.AckSync(ctx)
		if err == nil {
			return
		}
		log.Warn("acknowledge a batch", "err", err)
		sleep(ctx, 100*time.Millisecond)
	}
}
