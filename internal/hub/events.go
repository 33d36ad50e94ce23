package hub

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/bus"
	"github.com/crossroads-hub/crossroads/internal/civil"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/httpapi"
	"github.com/crossroads-hub/crossroads/internal/metrics"
	"github.com/crossroads-hub/crossroads/internal/mutations"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// The automatic communication of mutations (issue #5), in three stages over JetStream:
//
//	relay:   the civil register's event log (its outbox: an event is written in the
//	         transaction of its change) → stream MUTATIONS, subject mutations.civil.<lane>,
//	         message id "civil:<seq>",
//	         so a republish after a crash is dropped by the stream's duplicate window;
//	router:  four durable consumers (lanes by person), each in order, a batch of up to
//	         100 mutations at a time → mutations.Router decides the recipients
//	         (file, subscription, authorization), each decision is audited (the batch's
//	         records appended together), each copy minimised → stream DELIVERIES, subject
//	         deliveries.<subscription>.<lane>, id the delivery's idempotency key, the
//	         batch's copies published in order; the mutations are acknowledged after;
//	deliver: per push subscription, four durable consumers (lanes), a person always in
//	         the same lane; each lane sends what is waiting, up to 100 copies, as ONE
//	         DCI notify (one event per copy, in order, reference_id = the copy's key),
//	         signed by the hub, and takes nothing more until that batch is acknowledged
//	         (the subscriber sees a person's changes in order); 2xx acknowledges,
//	         anything else and the lane sends the same batch again with exponential
//	         back-off and jitter (see runLane).
//
// The relay starts at the end of the log on its first run: a nation's synthetic history
// is not replayed to subscribers. At-least-once: a crash between a stage's output and
// its acknowledgement repeats work, and the idempotency keys make the repeats
// recognisable.

const (
	streamMutations  = "MUTATIONS"
	streamDeliveries = "DELIVERIES"
	streamDead       = "DEAD" // copies given up on, by subscription, until sent again
	mutationsMaxAge  = 30 * 24 * time.Hour
	deliveriesMaxAge = 14 * 24 * time.Hour
	relayEvery       = 200 * time.Millisecond
	relayBatch       = 1000
	eventsRefresh    = time.Second
	deliverTimeout   = 10 * time.Second
)

// events runs the three stages.
type events struct {
	bus      *bus.Bus
	status   jetstream.KeyValue // the last outcome of each copy, by key, for 30 days
	position jetstream.KeyValue // the seq of the last event relayed, key "civil"
	civil    population.Store
	// registries are the built-in derived registries, by kind: their changes are in the
	// civil register's log and carry their records.
	registries map[string]*derived.Source
	router     *mutations.Router
	audit      *audit.Log
	keys       *oauth.KeySet
	dir        *directory.Directory
	client     *http.Client
	log        *slog.Logger

	subs    atomic.Pointer[[]directory.Subscription]
	mu      sync.Mutex
	running map[string]deliverer // push deliveries, by subscription
	wg      sync.WaitGroup
	stop    context.CancelFunc

	// Counted since start, as the outcomes of the tail and the metric count them: changes
	// routed, and of their copies those routed, withheld, delivered and failed attempts.
	changes, routed, withheld, delivered, failed atomic.Int64

	metrics *metrics.CounterVec // crossroads_mutation_outcomes_total{state}
	maxAge  time.Duration       // how long a copy is retried before it is set aside

	pullMu sync.Mutex
	pulled map[string]jetstream.Msg // pulled, not yet acknowledged: subscription + key

	tokMu  sync.Mutex
	tokens map[string]pushToken // bearer tokens for pushes, by institution

	feedMu sync.Mutex
	feed   map[chan []byte]struct{} // tails: every outcome, as a JSON line
	recent [][]byte                 // the last tailRecent outcomes, oldest first
}

// tailRecent is how many past outcomes a tail begins with, so that one started just
// after a change still shows what became of it.
const tailRecent = 100

// outcome is one line of the events tail.
type outcome struct {
	Time         string `json:"time"`
	State        string `json:"state"` // routed, withheld, delivered, failed
	Key          string `json:"key,omitempty"`
	Subscription string `json:"subscription,omitempty"`
	Institution  string `json:"institution,omitempty"`
	Type         string `json:"type,omitempty"`
	Seq          int64  `json:"seq,omitempty"`
	Attempt      uint64 `json:"attempt,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// publish counts an outcome and sends it to the tails, dropping it for a tail that is
// behind (a tail is for watching, not for auditing: the audit log has the decisions).
func (e *events) publish(o outcome) {
	e.metrics.WithLabelValues(o.State).Inc()
	o.Time = time.Now().UTC().Format(time.RFC3339Nano)
	b, _ := json.Marshal(o)
	b = slices.Clip(b) // shared by the tails, which append to it
	if o.Key != "" {
		e.recordStatus(o.Key, b)
	}
	e.feedMu.Lock()
	defer e.feedMu.Unlock()
	if len(e.recent) == tailRecent {
		e.recent = append(e.recent[:0], e.recent[1:]...)
	}
	e.recent = append(e.recent, b)
	for ch := range e.feed {
		select {
		case ch <- b:
		default:
		}
	}
}

// statusKey is a copy's key in the status bucket, whose keys allow no ':'.
func statusKey(key string) string {
	return statusKeys.Replace(key)
}

var statusKeys = strings.NewReplacer(":", "_", "/", ".", "#", "_")

// recordStatus keeps the last outcome of a copy. It does not wait for the bus's
// acknowledgement (a put to the bucket is a publish on its subject): the status is for
// operators, and the copy's own state is in the delivery stream.
func (e *events) recordStatus(key string, line []byte) {
	if _, err := e.bus.JS.PublishAsync("$KV.DELIVERY_STATUS."+statusKey(key), line); err != nil {
		e.log.Warn("record a delivery status", "key", key, "err", err)
	}
}

// Deliveries returns the last outcome of each copy of a change (id "civil:<seq>" or
// "remote:…"), or, with one, of the copy whose key is id.
func (e *events) Deliveries(ctx context.Context, id string, one bool) ([]json.RawMessage, error) {
	filter := statusKey(id)
	if !one {
		filter += ".*"
	}
	lister, err := e.status.ListKeysFiltered(ctx, filter)
	if err != nil {
		return nil, err
	}
	out := []json.RawMessage{}
	for k := range lister.Keys() {
		entry, err := e.status.Get(ctx, k)
		if err != nil {
			continue
		}
		out = append(out, json.RawMessage(entry.Value()))
	}
	return out, nil
}

// Tail returns the last outcomes (up to tailRecent), then those from now on, until ctx
// ends.
func (e *events) Tail(ctx context.Context) <-chan []byte {
	ch := make(chan []byte, 1024+tailRecent)
	e.feedMu.Lock()
	for _, b := range e.recent {
		ch <- b
	}
	e.feed[ch] = struct{}{}
	e.feedMu.Unlock()
	go func() {
		<-ctx.Done()
		e.feedMu.Lock()
		delete(e.feed, ch)
		e.feedMu.Unlock()
		close(ch)
	}()
	return ch
}

// Dead lists the copies set aside for a subscription ("": every subscription), at most limit.
func (e *events) Dead(ctx context.Context, subscription string, limit int) ([]json.RawMessage, error) {
	subject := "dead.>"
	if subscription != "" {
		subject = "dead." + subscription
	}
	c, err := e.bus.JS.OrderedConsumer(ctx, streamDead, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		return nil, err
	}
	out := []json.RawMessage{}
	info, err := c.Info(ctx)
	if err != nil || info.NumPending == 0 {
		return out, err
	}
	batch, err := c.Fetch(min(limit, int(info.NumPending)), jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		return nil, err
	}
	for m := range batch.Messages() {
		out = append(out, json.RawMessage(m.Data()))
	}
	return out, batch.Error()
}

// Retry sends a subscription's copies set aside again, in their order, and clears them;
// it returns how many. Each keeps its idempotency key.
func (e *events) Retry(ctx context.Context, subscription string) (int, error) {
	dead, err := e.Dead(ctx, subscription, 100000)
	if err != nil {
		return 0, err
	}
	now := strconv.FormatInt(time.Now().UnixNano(), 36)
	for _, raw := range dead {
		var d delivery
		if json.Unmarshal(raw, &d) != nil {
			continue
		}
		d.LastError, d.Attempts = "", 0
		body, _ := json.Marshal(d)
		// A new message id: the first copy may still be in the duplicate window.
		if _, err := e.bus.JS.Publish(ctx, deliverySubject(d.Subscription, d.Person), body, jetstream.WithMsgID(d.Key+"#retry-"+now)); err != nil {
			return 0, err
		}
	}
	s, err := e.bus.JS.Stream(ctx, streamDead)
	if err != nil {
		return 0, err
	}
	if err := s.Purge(ctx, jetstream.WithPurgeSubject("dead."+subscription)); err != nil {
		return 0, err
	}
	return len(dead), nil
}

// pullAckWait is how long a pulled copy waits for its acknowledgement before it is
// offered again.
const pullAckWait = time.Minute

// Next gives a pull subscription's next copies, at most max, waiting up to wait for the
// first; each must be acknowledged with Ack within a minute, or it is offered again.
func (e *events) Next(ctx context.Context, subscription string, max int, wait time.Duration) ([]json.RawMessage, error) {
	c, err := e.bus.JS.CreateOrUpdateConsumer(ctx, streamDeliveries, jetstream.ConsumerConfig{
		Durable: "pull-" + consumerName(subscription), FilterSubject: "deliveries." + subscription + ".>",
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: pullAckWait, MaxDeliver: -1})
	if err != nil {
		return nil, err
	}
	batch, err := c.Fetch(max, jetstream.FetchMaxWait(wait))
	if err != nil {
		return nil, err
	}
	out := []json.RawMessage{}
	e.pullMu.Lock()
	defer e.pullMu.Unlock()
	if e.pulled == nil {
		e.pulled = map[string]jetstream.Msg{}
	}
	for m := range batch.Messages() {
		var d delivery
		if json.Unmarshal(m.Data(), &d) != nil {
			_ = m.Term()
			continue
		}
		e.pulled[subscription+"\x00"+d.Key] = m
		out = append(out, json.RawMessage(m.Data()))
	}
	return out, nil
}

// Ack acknowledges pulled copies by key; it returns how many it knew.
func (e *events) Ack(ctx context.Context, subscription string, keys []string) (int, error) {
	e.pullMu.Lock()
	defer e.pullMu.Unlock()
	n := 0
	for _, k := range keys {
		m, ok := e.pulled[subscription+"\x00"+k]
		if !ok {
			continue
		}
		if err := m.DoubleAck(ctx); err != nil {
			return n, err
		}
		delete(e.pulled, subscription+"\x00"+k)
		n++
		e.delivered.Add(1)
		e.publish(outcome{State: "delivered", Key: k, Subscription: subscription})
	}
	return n, nil
}

// SubscriptionStatus is the state of one push subscription's deliveries.
type SubscriptionStatus struct {
	Subscription string `json:"subscription"`
	Endpoint     string `json:"endpoint"`
	Pending      uint64 `json:"pending"`     // copies not yet sent
	InFlight     int    `json:"in_flight"`   // sent, not yet acknowledged
	Redelivered  int    `json:"redelivered"` // being retried
}

// Status counts the outcomes since start and reads each subscription's backlog.
func (e *events) Status(ctx context.Context) (any, error) {
	out := struct {
		Changes       int64                `json:"changes"`  // changes routed
		Routed        int64                `json:"routed"`   // copies routed to subscribers
		Withheld      int64                `json:"withheld"` // copies withheld (no authorization)
		Delivered     int64                `json:"delivered"`
		Failed        int64                `json:"failed_attempts"`
		Subscriptions []SubscriptionStatus `json:"subscriptions"`
	}{Changes: e.changes.Load(), Routed: e.routed.Load(), Withheld: e.withheld.Load(), Delivered: e.delivered.Load(),
		Failed: e.failed.Load(), Subscriptions: []SubscriptionStatus{}}
	e.mu.Lock()
	running := maps.Clone(e.running)
	e.mu.Unlock()
	for _, id := range slices.Sorted(maps.Keys(running)) {
		st := SubscriptionStatus{Subscription: id, Endpoint: running[id].endpoint}
		for l := range partitions {
			c, err := e.bus.JS.Consumer(ctx, streamDeliveries, laneConsumerName(id, l))
			if err != nil {
				continue
			}
			info, err := c.Info(ctx)
			if err != nil {
				continue
			}
			st.Pending += info.NumPending
			st.InFlight += info.NumAckPending
			st.Redelivered += info.NumRedelivered
		}
		out.Subscriptions = append(out.Subscriptions, st)
	}
	return out, nil
}

// deliverer is a subscription's running delivery lanes and the endpoint they push to.
type deliverer struct {
	endpoint string
	cancel   context.CancelFunc
	done     *sync.WaitGroup
}

// stop ends the lanes and waits for them: a batch not yet acknowledged stays with the
// bus, and is sent again, first, by the next lanes of the subscription.
func (d deliverer) stop() {
	d.cancel()
	d.done.Wait()
}

// partitions is how many delivery lanes a subscription has. A person's changes always
// take the same lane, one at a time, so a subscriber sees them in order; the lanes run
// side by side. Each lane is a durable consumer whose acknowledgement state JetStream
// writes to disk: with batches of up to 100 copies, four lanes deliver more than eight
// (measured with bench events --fanout 12: 10,100 against 7,700 copies/s).
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

// eventsDir is where the embedded JetStream keeps its files: beside an SQLite store, or
// in ./crossroads-nats.
func eventsDir(cfg Config) string {
	if cfg.NATSDir != "" {
		return cfg.NATSDir
	}
	if p, ok := strings.CutPrefix(cfg.Store, "sqlite:"); ok {
		p, _, _ = strings.Cut(p, "?")
		return filepath.Join(filepath.Dir(p), "nats")
	}
	return "crossroads-nats"
}

// startEvents opens the bus and starts the stages; they run until close.
func startEvents(ctx context.Context, cfg Config, st *Stores, x *stack, reg *metrics.Registry) (*events, error) {
	b, err := bus.Open(ctx, bus.Config{URL: cfg.NATS, Dir: eventsDir(cfg), Name: "crossroads-hub"})
	if err != nil {
		return nil, err
	}
	maxAge := cmp.Or(cfg.DeliveryMaxAge, 24*time.Hour)
	// The streams keep messages by age, acknowledged or not, so that the disk does not
	// fill: a change is routed within moments, and a copy is set aside in DEAD once it is
	// maxAge old; what a hub stopped for longer than these ages had not routed or
	// delivered is lost (the relay's position is kept apart, in RELAY).
	for _, sc := range []jetstream.StreamConfig{
		{Name: streamMutations, Subjects: []string{"mutations.>"}, Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute, MaxAge: mutationsMaxAge},
		// Copies are ten or more a change: the server keeps the id of each for the
		// duplicate window, so DELIVERIES' is shorter (a router repeats a batch within
		// seconds, or when the hub restarts).
		{Name: streamDeliveries, Subjects: []string{"deliveries.>"}, Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute,
			MaxAge: max(deliveriesMaxAge, 2*maxAge)},
		{Name: streamDead, Subjects: []string{"dead.>"}, Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute},
	} {
		if _, err := b.Stream(ctx, sc); err != nil {
			b.Close()
			return nil, err
		}
	}
	status, err := b.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "DELIVERY_STATUS", History: 1,
		TTL: 30 * 24 * time.Hour, Storage: jetstream.FileStorage})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: delivery status: %w", err)
	}
	position, err := b.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "RELAY", History: 1, Storage: jetstream.FileStorage})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: relay position: %w", err)
	}
	e := &events{bus: b, status: status, position: position, civil: st.Civil.Population(), registries: x.registries(), audit: x.audit, keys: x.keys, dir: st.Directory,
		client: cfg.Callbacks, log: x.log, running: map[string]deliverer{}, feed: map[chan []byte]struct{}{}, maxAge: maxAge}
	if reg == nil {
		reg = metrics.NewRegistry()
	}
	e.metrics = reg.Counter("crossroads_mutation_outcomes_total", "Mutations routed and copies withheld, delivered or failed (one per attempt).", "state")
	if e.client == nil {
		// Every lane of every push subscription keeps its connection while it pushes, and
		// lets it go a second after (httpapi.NewSenderClient).
		e.client = httpapi.NewSenderClient()
	}
	e.router = &mutations.Router{Files: x.index.Files, Subscriptions: func() []directory.Subscription { return *e.subs.Load() },
		Policy: func() *exchange.Policy { return x.exchange.Policy() }, Today: func() date.Date { return date.FromTime(time.Now()) }}
	if err := e.loadSubscriptions(ctx); err != nil {
		b.Close()
		return nil, err
	}
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	e.stop = stop
	if err := e.startRouter(rctx); err != nil {
		stop()
		b.Close()
		return nil, err
	}
	e.wg.Add(2)
	go func() { defer e.wg.Done(); e.relay(rctx) }()
	go func() { defer e.wg.Done(); e.refresh(rctx) }()
	return e, nil
}

func (e *events) close() {
	e.stop()
	e.wg.Wait()
	e.mu.Lock()
	for _, d := range e.running {
		d.stop()
	}
	e.mu.Unlock()
	e.bus.Close()
}

// loadSubscriptions reads the subscriptions in force.
func (e *events) loadSubscriptions(ctx context.Context) error {
	all, err := all[directory.Subscription](ctx, e.dir)
	if err != nil {
		return err
	}
	active := all[:0]
	for _, s := range all {
		if s.Active() {
			active = append(active, s)
		}
	}
	e.subs.Store(&active)
	return nil
}

// refresh keeps the subscriptions current and a delivery consumer for each push one.
func (e *events) refresh(ctx context.Context) {
	t := time.NewTicker(eventsRefresh)
	defer t.Stop()
	for {
		e.syncDeliverers(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := e.loadSubscriptions(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("reload subscriptions", "err", err)
		}
	}
}

// relay publishes the register's new events, from where it stopped.
func (e *events) relay(ctx context.Context) {
	last, err := e.relayStart(ctx)
	if err != nil {
		e.log.Error("events relay cannot start", "err", err)
		return
	}
	t := time.NewTicker(relayEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			evs, err := e.civil.EventsAfter(ctx, last, relayBatch)
			if err != nil {
				if ctx.Err() == nil {
					e.log.Warn("read the event log", "err", err)
				}
				break
			}
			done, err := e.publishEvents(ctx, evs)
			if done > 0 {
				last = evs[done-1].Seq
				if _, err := e.position.Put(ctx, "civil", strconv.AppendInt(nil, last, 10)); err != nil && ctx.Err() == nil {
					e.log.Warn("keep the relay's position", "seq", last, "err", err)
				}
			}
			if err != nil {
				if ctx.Err() == nil {
					e.log.Warn("publish a mutation", "seq", last+1, "err", err)
				}
				break
			}
			if len(evs) < relayBatch {
				break
			}
		}
	}
}

// publishEvents publishes the register's events in order, without waiting for each
// acknowledgement before sending the next (one round trip a batch, not one an event), and
// returns how many of them, from the first, the stream has stored. What follows a failure
// is published again from there; the stream drops a repeat by its id.
func (e *events) publishEvents(ctx context.Context, evs []population.Event) (int, error) {
	acks := make([]jetstream.PubAckFuture, 0, len(evs))
	var failed error
	for _, ev := range evs {
		body, _ := json.Marshal(ev)
		msg := &nats.Msg{Subject: "mutations.civil." + lane(ev.Person), Data: body, Header: nats.Header{}}
		msg.Header.Set("Crossroads-Seq", strconv.FormatInt(ev.Seq, 10))
		f, err := e.bus.JS.PublishMsgAsync(msg, jetstream.WithMsgID("civil:"+strconv.FormatInt(ev.Seq, 10)))
		if err != nil {
			failed = err
			break
		}
		acks = append(acks, f)
	}
	for i, f := range acks {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return i, err
		case <-ctx.Done():
			return i, ctx.Err()
		}
	}
	return len(acks), failed
}

// relayStart is the seq of the last event published, or, on the first run, the end of
// the log.
func (e *events) relayStart(ctx context.Context) (int64, error) {
	s, err := e.bus.JS.Stream(ctx, streamMutations)
	if err != nil {
		return 0, err
	}
	end, err := e.civil.LastEventSeq(ctx)
	if err != nil {
		return 0, err
	}
	var last int64
	m, err := s.GetLastMsgForSubject(ctx, "mutations.civil.*")
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		// No event in the stream: the first run, or the stream's messages aged out while
		// the hub was stopped; the position kept apart tells which.
		kv, kerr := e.position.Get(ctx, "civil")
		if errors.Is(kerr, jetstream.ErrKeyNotFound) {
			return end, nil // first run
		}
		if kerr != nil {
			return 0, kerr
		}
		last, err = strconv.ParseInt(string(kv.Value()), 10, 64)
	case err != nil:
		return 0, err
	default:
		last, err = strconv.ParseInt(m.Header.Get("Crossroads-Seq"), 10, 64)
	}
	if err != nil || last > end {
		// The bus has seen a longer log than this register holds: another register.
		e.log.Warn("the event bus does not match the register; relaying from the register's end", "bus", last, "register", end)
		return end, nil
	}
	return last, nil
}

// startRouter consumes mutations, lane by lane, in order, a batch at a time, and
// publishes their deliveries.
func (e *events) startRouter(ctx context.Context) error {
	for l := range partitions {
		c, err := e.inOrderConsumer(ctx, streamMutations, jetstream.ConsumerConfig{
			Durable: "route-" + strconv.Itoa(l), FilterSubject: "mutations.*." + strconv.Itoa(l),
			AckPolicy: jetstream.AckAllPolicy, MaxAckPending: routeBatch, AckWait: deliverAckWait, MaxDeliver: -1}, "router-"+strconv.Itoa(l))
		if err != nil {
			return fmt.Errorf("router consumer: %w", err)
		}
		e.wg.Add(1)
		go func() { defer e.wg.Done(); e.routeLane(ctx, c) }()
	}
	return nil
}

// routeBatch is how many mutations a router lane takes at once.
const routeBatch = 100

// routeLane routes a lane's mutations until ctx ends: it takes those waiting (up to
// routeBatch, in order), decides them, records the decisions and publishes the copies
// together, in order, then acknowledges them. A mutation that cannot be routed (the
// register does not answer) is retried every second with those after it, after the ones
// before it are acknowledged.
func (e *events) routeLane(ctx context.Context, c jetstream.Consumer) {
	for ctx.Err() == nil {
		msgs, err := fetch(ctx, c, routeBatch)
		if err != nil && ctx.Err() == nil {
			e.log.Warn("fetch mutations", "consumer", c.CachedInfo().Name, "err", err)
			sleep(ctx, time.Second)
		}
		for len(msgs) > 0 && ctx.Err() == nil {
			done, err := e.routeAll(ctx, msgs)
			if done > 0 {
				ackAll(ctx, e.log, msgs[done-1])
				msgs = msgs[done:]
			}
			if err != nil {
				if ctx.Err() == nil {
					e.log.Warn("route a mutation", "err", err)
				}
				if !sleep(ctx, time.Second) {
					return
				}
				for _, m := range msgs {
					_ = m.InProgress()
				}
			}
		}
	}
}

// routeAll routes msgs in order; it returns how many of them are done (routed,
// recorded, their copies stored), and why it stopped short.
func (e *events) routeAll(ctx context.Context, msgs []jetstream.Msg) (int, error) {
	var plans []*routing
	var stop error
	for _, m := range msgs {
		p, err := e.plan(ctx, m.Data())
		if err != nil {
			stop = err
			break
		}
		plans = append(plans, p) // nil: not a mutation, nothing to do
	}
	if err := e.commitRoutes(ctx, plans); err != nil {
		return 0, err
	}
	return len(plans), stop
}

// RemoteChange is a change a remote authentic source notified (DCI notify), as the router
// takes it.
type RemoteChange struct {
	Source     string         `json:"source"`                // the source's institution
	Service    string         `json:"service"`               // the directory service its data belong to
	Registry   string         `json:"registry,omitempty"`    // the registry it notified ("farmer"); "": the civil register
	RecordType string         `json:"record_type,omitempty"` // the reg_record_type it gave
	ID         string         `json:"id"`                    // the change's id: remote:<institution>:<transaction>/<reference>/<n>
	Type       string         `json:"type"`
	Person     string         `json:"person"`
	Date       date.Date      `json:"date"`
	Record     map[string]any `json:"record"`
}

// Ingest takes a remote source's change onto the bus, to be routed as the register's are;
// m.ID is its idempotency key: a change notified twice is routed once.
func (e *events) Ingest(ctx context.Context, m mutations.Mutation) error {
	c := RemoteChange{Source: m.Source, Service: m.Service, Registry: m.Registry, RecordType: m.RecordType, ID: m.ID, Type: m.Type,
		Person: m.Person, Date: m.Date, Record: m.Record}
	body, _ := json.Marshal(map[string]any{"remote": c})
	_, err := e.bus.JS.Publish(ctx, "mutations.remote."+lane(c.Person), body, jetstream.WithMsgID(c.ID))
	return err
}

// delivery is what the deliveries stream carries.
type delivery struct {
	Key          string          `json:"key"`
	LastError    string          `json:"last_error,omitempty"` // set aside: why the last attempt failed
	Attempts     uint64          `json:"attempts,omitempty"`
	Subscription string          `json:"subscription"`
	Institution  string          `json:"institution"`
	Type         string          `json:"type"`
	WireType     string          `json:"wire_type,omitempty"`   // Type as the registry's DCI document names it
	Registry     string          `json:"registry,omitempty"`    // a derived registry's record; "": the civil register's
	RecordType   string          `json:"record_type,omitempty"` // reg_record_type as a remote source gave it
	Person       string          `json:"person"`
	Date         string          `json:"date"`
	Record       json.RawMessage `json:"record"` // as the router minimised it
}

// routing is what the router decided about one mutation, not yet recorded or published.
type routing struct {
	m       mutations.Mutation
	records []audit.Record // the decisions, for the audit log
	copies  []routedCopy
	held    []outcome // copies withheld
}

type routedCopy struct {
	subject, key string
	body         []byte
	routed       outcome
}

// plan decides the recipients of one mutation; nil when there is nothing to route.
func (e *events) plan(ctx context.Context, data []byte) (*routing, error) {
	var remote struct {
		Remote *RemoteChange `json:"remote"`
	}
	if json.Unmarshal(data, &remote) == nil && remote.Remote != nil {
		c := remote.Remote
		return e.decide(data, mutations.Mutation{Source: c.Source, Service: c.Service, Registry: c.Registry, RecordType: c.RecordType,
			ID: c.ID, Type: c.Type, Person: c.Person, Date: c.Date, Record: c.Record})
	}
	var ev population.Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, nil // not a mutation: dropped, nothing to retry
	}
	if ev.Date.IsZero() { // a change without a date: as of the day it was recorded
		ev.Date = date.FromTime(ev.RecordedAt)
	}
	if kind := derived.EventRegistry[ev.Type]; kind != "" {
		return e.planRegistry(ctx, data, kind, ev)
	}
	p, err := e.civil.Person(ctx, ev.Person)
	if fault.KindOf(err) == fault.NotFound {
		e.log.Warn("a mutation of a person the register does not hold: dropped", "seq", ev.Seq)
		return nil, nil // retrying would not find the person either
	}
	if err != nil {
		return nil, err
	}
	rec, _ := civil.Record(&p)
	m := mutations.Mutation{Source: "civil", Service: synth.CivilPerson, Seq: ev.Seq, Type: ev.Type, Person: ev.Person, Date: ev.Date, Record: rec}
	switch ev.Type {
	case population.EventBirth:
		m.Related = nonEmpty(p.Mother, p.Father)
	case population.EventMarriage, population.EventDivorce:
		var d struct {
			Spouse string `json:"spouse"`
		}
		_ = json.Unmarshal(ev.Data, &d)
		m.Related = nonEmpty(d.Spouse, p.Spouse)
	}
	return e.decide(data, m)
}

// planRegistry decides the recipients of a change declared to a derived registry: it
// carries the person's record in that registry as the change made it, and is routed
// under the registry's service.
func (e *events) planRegistry(ctx context.Context, data []byte, kind string, ev population.Event) (*routing, error) {
	src := e.registries[kind]
	if src == nil {
		e.log.Warn("a change of a registry the hub does not serve: dropped", "seq", ev.Seq, "registry", kind)
		return nil, nil
	}
	rec, err := src.Record(ctx, ev.Person, ev.Date)
	if fault.KindOf(err) == fault.NotFound || (err == nil && rec == nil) {
		e.log.Warn("a change of a person the registry does not hold: dropped", "seq", ev.Seq, "registry", kind)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return e.decide(data, mutations.Mutation{Source: "civil", Service: synth.RegistryServices[kind], Registry: kind, Seq: ev.Seq,
		Type: ev.Type, WireType: derived.WireEventType(ev.Type, ev.Data), Person: ev.Person, Date: ev.Date, Record: rec})
}

// decide routes m (data is how it came): the copies, each minimised, and a record of
// every decision, with the hash of the mutation and of what is sent.
func (e *events) decide(data []byte, m mutations.Mutation) (*routing, error) {
	deliveries, decisions := e.router.Route(m)
	r := &routing{m: m}
	bodies := make(map[string][]byte, len(deliveries))
	for _, d := range deliveries {
		record, err := json.Marshal(d.Record)
		if err != nil {
			return nil, err
		}
		body, _ := json.Marshal(delivery{Key: d.Key, Subscription: d.Subscription.ID, Institution: d.Subscription.Institution,
			Type: m.Type, WireType: m.WireType, Registry: m.Registry, RecordType: m.RecordType, Person: m.Person, Date: m.Date.String(), Record: record})
		bodies[d.Subscription.ID] = body
		r.copies = append(r.copies, routedCopy{subject: deliverySubject(d.Subscription.ID, m.Person), key: d.Key, body: body,
			routed: outcome{State: "routed", Key: d.Key, Subscription: d.Subscription.ID, Institution: d.Subscription.Institution, Type: m.Type, Seq: m.Seq}})
	}
	requestHash := sha256.Sum256(data)
	for _, d := range decisions {
		result, decision := "withheld", "deny"
		if d.Deliver {
			result, decision = "routed", "permit"
		}
		responseHash := sha256.Sum256(bodies[d.Subscription])
		r.records = append(r.records, audit.Record{Client: "crossroads:events", Institution: d.Institution,
			Service: "mutation:" + m.Type, Persons: []string{m.Person}, Decision: decision, Reasons: []string{d.Reason},
			Outcome: result, Status: 200, RequestHash: hex.EncodeToString(requestHash[:]), ResponseHash: hex.EncodeToString(responseHash[:])})
		if !d.Deliver {
			r.held = append(r.held, outcome{State: "withheld", Subscription: d.Subscription, Institution: d.Institution, Type: m.Type, Seq: m.Seq, Reason: d.Reason})
		}
	}
	return r, nil
}

// commitRoutes records the decisions of a batch of mutations (appended together: one or
// a few commits of the audit log) and then publishes their copies, in order, waiting
// until all are stored; the mutations can then be acknowledged. A failure repeats the
// whole batch (at least once: a decision may be recorded twice, a copy is not published
// twice within the stream's duplicate window).
func (e *events) commitRoutes(ctx context.Context, plans []*routing) error {
	n := 0
	for _, p := range plans {
		if p != nil {
			n += len(p.records)
		}
	}
	if n > 0 {
		done := e.audit.Expect(n)
		errs := make(chan error, n)
		for _, p := range plans {
			if p == nil {
				continue
			}
			for _, rec := range p.records {
				go func() { _, err := e.audit.Append(ctx, rec); errs <- err }()
			}
		}
		var first error
		for range n {
			if err := <-errs; err != nil && first == nil {
				first = err
			}
		}
		done()
		if first != nil {
			return first
		}
	}
	var acks []jetstream.PubAckFuture
	for _, p := range plans {
		if p == nil {
			continue
		}
		for _, c := range p.copies {
			f, err := e.bus.JS.PublishAsync(c.subject, c.body, jetstream.WithMsgID(c.key))
			if err != nil {
				return err
			}
			acks = append(acks, f)
		}
	}
	for _, f := range acks {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for _, p := range plans {
		if p == nil {
			continue
		}
		e.changes.Add(1)
		e.routed.Add(int64(len(p.copies)))
		e.withheld.Add(int64(len(p.held)))
		for _, o := range p.held {
			e.publish(o)
		}
		for _, c := range p.copies {
			e.publish(c.routed)
		}
	}
	return nil
}

func nonEmpty(vs ...string) []string {
	var out []string
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// The delivery of push subscriptions. Each subscription has four lanes (a person's
// changes always take the same lane); each lane is one goroutine over one durable
// consumer of the DELIVERIES stream, and works batch by batch:
//
//   - it takes what is waiting, up to deliverBatch copies in stream order (it waits for
//     the first one only: a lone change goes out at once);
//   - it sends them in ONE DCI notify, one event per copy, in that order, each event's
//     reference_id the copy's idempotency key, signed once;
//   - a 2xx answer acknowledges the batch (AckAll on its last copy, confirmed by the bus);
//     anything else and the lane keeps the batch and sends it again itself, after 1 s,
//     2 s, 4 s … at most backoffCap (plus up to a quarter of jitter), telling the bus the
//     batch is in progress meanwhile; it fetches nothing more until the batch is
//     acknowledged, so a person's later changes never overtake earlier ones; copies older
//     than the maximum age are set aside in DEAD (the oldest first) and the rest retried.
//
// After a crash the copies of an unacknowledged batch are still pending in the consumer;
// the bus would hand out newer copies before redelivering them (after AckWait), so a
// lane that starts on a consumer with copies pending first recreates it from its
// acknowledgement floor (laneConsumer): the unacknowledged copies come again, first and
// in order. One hub delivers a subscription's lanes at a time (the embedded bus is the
// process's own; several hubs on one external cluster would share the lanes).
const (
	deliverBatch   = 100              // copies per notify, at most
	deliverAckWait = 30 * time.Second // a fetched batch in progress is renewed every third of this
	backoffCap     = 12 * time.Second // the longest wait between two attempts, before jitter
)

// laneConsumerName is the durable consumer of a subscription's lane. The consumers
// acknowledge batches (AckAll), which JetStream cannot change in place in the
// consumers of earlier versions ("deliver-…", one copy at a time): a lane takes over
// from such a consumer where it stopped, and deletes it.
func laneConsumerName(subscription string, lane int) string {
	return "push-" + consumerName(subscription) + "-" + strconv.Itoa(lane)
}

// laneConsumer returns the consumer of a subscription's delivery lane.
func (e *events) laneConsumer(ctx context.Context, subscription string, lane int) (jetstream.Consumer, error) {
	return e.inOrderConsumer(ctx, streamDeliveries, jetstream.ConsumerConfig{Durable: laneConsumerName(subscription, lane),
		FilterSubject: "deliveries." + subscription + "." + strconv.Itoa(lane),
		AckPolicy:     jetstream.AckAllPolicy, MaxAckPending: deliverBatch, AckWait: deliverAckWait, MaxDeliver: -1},
		"deliver-"+consumerName(subscription)+"-"+strconv.Itoa(lane))
}

// inOrderConsumer returns a durable consumer that hands out its messages in order, in
// batches, ready for a lane: created if new (after where the lane's consumer of an
// earlier version, old, stopped; old is then deleted), recreated from its
// acknowledgement floor if it holds messages delivered but never acknowledged (a crash).
// The bus would otherwise hand out newer messages before it redelivers those.
func (e *events) inOrderConsumer(ctx context.Context, stream string, cfg jetstream.ConsumerConfig, old string) (jetstream.Consumer, error) {
	c, err := e.bus.JS.Consumer(ctx, stream, cfg.Durable)
	switch {
	case err == nil:
		info := c.CachedInfo()
		if info.NumAckPending == 0 {
			if info.Config.MaxAckPending == cfg.MaxAckPending && info.Config.AckWait == cfg.AckWait {
				return c, nil
			}
			up := info.Config
			up.MaxAckPending, up.AckWait = cfg.MaxAckPending, cfg.AckWait
			return e.bus.JS.UpdateConsumer(ctx, stream, up)
		}
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, info.AckFloor.Stream+1
		if err := e.bus.JS.DeleteConsumer(ctx, stream, cfg.Durable); err != nil {
			return nil, err
		}
		e.log.Info("a lane resumes after its last acknowledged message", "consumer", cfg.Durable, "from", cfg.OptStartSeq)
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		if oc, oerr := e.bus.JS.Consumer(ctx, stream, old); oerr == nil {
			cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, oc.CachedInfo().AckFloor.Stream+1
			if err := e.bus.JS.DeleteConsumer(ctx, stream, old); err != nil {
				return nil, err
			}
		}
	default:
		return nil, err
	}
	return e.bus.JS.CreateConsumer(ctx, stream, cfg)
}

// syncDeliverers runs the delivery lanes of each push subscription in force, and stops
// those of subscriptions no longer in force (or whose endpoint changed).
func (e *events) syncDeliverers(ctx context.Context) {
	want := map[string]directory.Subscription{}
	for _, s := range *e.subs.Load() {
		if s.Mode == directory.ModePush && s.Endpoint != "" {
			want[s.ID] = s
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, d := range e.running {
		if s, ok := want[id]; !ok || s.Endpoint != d.endpoint {
			d.stop()
			delete(e.running, id)
		}
	}
	for id, s := range want {
		if _, ok := e.running[id]; ok {
			continue
		}
		lctx, cancel := context.WithCancel(ctx)
		d := deliverer{endpoint: s.Endpoint, cancel: cancel, done: &sync.WaitGroup{}}
		for l := range partitions {
			c, err := e.laneConsumer(ctx, id, l)
			if err != nil {
				if ctx.Err() == nil {
					e.log.Warn("delivery consumer", "subscription", id, "lane", l, "err", err)
				}
				continue
			}
			d.done.Add(1)
			go func() { defer d.done.Done(); e.runLane(lctx, d.endpoint, c) }()
		}
		e.running[id] = d
	}
}

// consumerName makes a subscription id a valid consumer name.
func consumerName(id string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '*' || r == '>' || r == ' ' {
			return '_'
		}
		return r
	}, id)
}

// runLane delivers a lane's copies, batch by batch, until ctx ends.
func (e *events) runLane(ctx context.Context, endpoint string, c jetstream.Consumer) {
	for ctx.Err() == nil {
		msgs, err := fetch(ctx, c, deliverBatch)
		if err != nil && ctx.Err() == nil {
			e.log.Warn("fetch copies to deliver", "consumer", c.CachedInfo().Name, "err", err)
			sleep(ctx, time.Second)
			continue
		}
		if len(msgs) > 0 {
			e.deliverBatch(ctx, endpoint, msgs)
		}
	}
}

// fetch returns the messages waiting in a lane, at most n, in stream order; when none
// are, it waits (up to 30 s) for the first and takes those that came with it.
func fetch(ctx context.Context, c jetstream.Consumer, n int) ([]jetstream.Msg, error) {
	msgs, err := collect(c.FetchNoWait(n))
	if len(msgs) > 0 || err != nil {
		return msgs, err
	}
	if msgs, err = collect(c.Fetch(1, jetstream.FetchContext(ctx))); len(msgs) == 0 || err != nil {
		return msgs, err
	}
	more, err := collect(c.FetchNoWait(n - 1))
	return append(msgs, more...), err
}

// ackAll acknowledges a lane's messages up to last (AckAll), confirmed by the bus, so
// that none of them can be redelivered after the next batch; it retries until ctx ends.
func ackAll(ctx context.Context, log *slog.Logger, last jetstream.Msg) {
	for ctx.Err() == nil {
		err := last.DoubleAck(ctx)
		if err == nil || errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
			return
		}
		log.Warn("acknowledge a batch", "err", err)
		sleep(ctx, 100*time.Millisecond)
	}
}

func collect(b jetstream.MessageBatch, err error) ([]jetstream.Msg, error) {
	if err != nil {
		return nil, err
	}
	var out []jetstream.Msg
	for m := range b.Messages() {
		out = append(out, m)
	}
	if err := b.Error(); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, nats.ErrTimeout) {
		return out, err
	}
	return out, nil
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

// queued is a copy of a fetched batch.
type queued struct {
	msg    jetstream.Msg
	d      delivery
	stored time.Time
}

// deliverBatch pushes a batch until the subscriber takes it (or its copies are set aside),
// then acknowledges it. It returns early, the batch unacknowledged, only when ctx ends.
func (e *events) deliverBatch(ctx context.Context, endpoint string, msgs []jetstream.Msg) {
	batch := make([]queued, 0, len(msgs))
	first := uint64(1)
	for i, m := range msgs {
		q := queued{msg: m, stored: time.Now()}
		if md, err := m.Metadata(); err == nil {
			q.stored = md.Timestamp
			if i == 0 {
				first = md.NumDelivered
			}
		}
		if json.Unmarshal(m.Data(), &q.d) != nil {
			continue // not a copy: acknowledged with the batch
		}
		batch = append(batch, q)
	}
	for n := first; len(batch) > 0; n++ {
		err := e.push(ctx, endpoint, batch)
		if err == nil {
			e.delivered.Add(int64(len(batch)))
			for _, q := range batch {
				e.publish(outcome{State: "delivered", Key: q.d.Key, Subscription: q.d.Subscription, Institution: q.d.Institution, Type: q.d.Type, Attempt: n})
			}
			break
		}
		if ctx.Err() != nil {
			return // stopping: the batch is sent again by the next lanes, first
		}
		e.failed.Add(int64(len(batch)))
		for _, q := range batch {
			e.publish(outcome{State: "failed", Key: q.d.Key, Subscription: q.d.Subscription, Institution: q.d.Institution, Type: q.d.Type, Attempt: n, Reason: err.Error()})
		}
		e.log.Debug("delivery failed", "subscription", batch[0].d.Subscription, "copies", len(batch), "attempt", n, "err", err)
		// Too old to keep trying: set aside, where operators see them and can send them
		// again. The oldest are first in the batch.
		dead := 0
		for dead < len(batch) && time.Since(batch[dead].stored) > e.maxAge {
			q := &batch[dead]
			q.d.LastError, q.d.Attempts = err.Error(), n
			body, _ := json.Marshal(q.d)
			if _, perr := e.bus.JS.Publish(ctx, "dead."+q.d.Subscription, body, jetstream.WithMsgID(q.d.Key)); perr != nil {
				break
			}
			e.publish(outcome{State: "dead", Key: q.d.Key, Subscription: q.d.Subscription, Institution: q.d.Institution, Type: q.d.Type, Attempt: n, Reason: err.Error()})
			dead++
		}
		if dead > 0 {
			_ = batch[dead-1].msg.Ack() // AckAll: this copy and those before it
			batch = batch[dead:]
			if len(batch) == 0 {
				break
			}
		}
		// Exponential back-off with jitter, the batch kept in progress meanwhile.
		wait := min(time.Second<<min(n-1, 8), backoffCap)
		wait += time.Duration(rand.Int64N(int64(wait / 4)))
		for until := time.Now().Add(wait); time.Now().Before(until); {
			if !sleep(ctx, min(time.Until(until), deliverAckWait/3)) {
				return
			}
			for _, q := range batch {
				_ = q.msg.InProgress()
			}
		}
	}
	// AckAll: acknowledging the last copy acknowledges the batch.
	ackAll(ctx, e.log, msgs[len(msgs)-1])
}

// batchID names a batch of several copies: a hash of their keys, the same each time the
// same batch is sent.
func batchID(batch []queued) string {
	if len(batch) == 1 {
		return batch[0].d.Key
	}
	h := sha256.New()
	for _, q := range batch {
		h.Write([]byte(q.d.Key))
		h.Write([]byte{0})
	}
	return "crossroads-batch-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// notifyEvent is one copy in a notify message.
type notifyEvent struct {
	ReferenceID string     `json:"reference_id"`
	Timestamp   string     `json:"timestamp"`
	Locale      string     `json:"locale"`
	Data        notifyData `json:"data"`
}

type notifyData struct {
	Version       string            `json:"version"`
	RegType       string            `json:"reg_type"`
	RegEventType  string            `json:"reg_event_type"`
	EventType     string            `json:"event_type"` // the hub's own type (birth, death, employment_start, …), whatever reg_event_type the registry's document imposes
	RegRecordType string            `json:"reg_record_type"`
	RegRecords    []json.RawMessage `json:"reg_records"`
}

// PushTokenType is the JWS type of the bearer tokens the hub presents to subscribers.
// A token's audience is "subscriber:<institution>"; it is signed with a key of the hub's
// JWKS (/.well-known/jwks.json) and expires after 5 minutes.
const PushTokenType = "push+jwt"

// PushClaims are the claims of a push token.
type PushClaims struct {
	Issuer   string `json:"iss"`
	Audience string `json:"aud"`
	Expires  int64  `json:"exp"`
}

// pushToken returns the bearer token for pushes to institution, signed anew when the
// cached one has less than a minute left.
func (e *events) pushToken(institution string) (string, error) {
	e.tokMu.Lock()
	defer e.tokMu.Unlock()
	if t, ok := e.tokens[institution]; ok && time.Until(t.expires) > time.Minute {
		return t.token, nil
	}
	exp := time.Now().Add(5 * time.Minute)
	b, _ := json.Marshal(PushClaims{Issuer: "crossroads", Audience: "subscriber:" + institution, Expires: exp.Unix()})
	tok, err := e.keys.SignJWS(PushTokenType, b)
	if err != nil {
		return "", err
	}
	if e.tokens == nil {
		e.tokens = map[string]pushToken{}
	}
	e.tokens[institution] = pushToken{tok, exp}
	return tok, nil
}

type pushToken struct {
	token   string
	expires time.Time
}

// push posts a batch as one DCI notify, one event per copy in the batch's order. The
// message id, and the Idempotency-Key header, is the copy's key for a lone copy, else a
// hash of the keys; subscribers deduplicate by each event's reference_id.
func (e *events) push(ctx context.Context, endpoint string, batch []queued) error {
	// Checked at each push, and the normal form posted: the record may predate the rules.
	to, err := directory.ParseEndpoint("endpoint", endpoint)
	if err != nil {
		return err
	}
	now := time.Now()
	ts := dci.Timestamp(now)
	id := batchID(batch)
	header := dci.CallbackHeader{Version: dci.Version, MessageID: id, MessageTS: ts, Action: dci.ActionNotify,
		Status: dci.StatusSuccess, TotalCount: dci.Count(len(batch)), CompletedCount: dci.Count(len(batch)), SenderID: "crossroads",
		ReceiverID: batch[0].d.Institution}
	events := make([]notifyEvent, len(batch))
	for i, q := range batch {
		regType, recordType := dci.RegistryType("civil"), civil.RecordType
		if r := q.d.Registry; r != "" {
			regType, recordType = dci.RegistryType(r), cmp.Or(derived.RecordTypes[r], civil.RecordType)
		}
		recordType = cmp.Or(q.d.RecordType, recordType) // a remote source's own label is kept
		events[i] = notifyEvent{ReferenceID: q.d.Key, Timestamp: ts, Locale: "eng", Data: notifyData{Version: dci.Version,
			RegType: regType, RegEventType: cmp.Or(q.d.WireType, q.d.Type), EventType: q.d.Type, RegRecordType: recordType,
			RegRecords: []json.RawMessage{q.d.Record}}}
	}
	h, _ := json.Marshal(header)
	m, err := json.Marshal(struct {
		TransactionID string        `json:"transaction_id"`
		NotifyEvent   []notifyEvent `json:"notify_event"`
	}{id, events})
	if err != nil {
		return err
	}
	signer, err := e.keys.Current()
	if err != nil {
		return err
	}
	sig, err := dci.SignEd25519With(h, m, "crossroads", signer.KeyID, signer.Sign, now, now.Add(time.Hour))
	if err != nil {
		return err
	}
	body, _ := json.Marshal(struct {
		Signature string          `json:"signature"`
		Header    json.RawMessage `json:"header"`
		Message   json.RawMessage `json:"message"`
	}{sig, h, m})
	ctx, cancel := context.WithTimeout(ctx, deliverTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", id)
	token, err := e.pushToken(batch[0].d.Institution)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the subscriber answered %d", resp.StatusCode)
	}
	return nil
}
