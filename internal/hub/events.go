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
	"github.com/prometheus/client_golang/prometheus"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/bus"
	"github.com/crossroads-hub/crossroads/internal/civil"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
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
//	router:  eight durable consumers (lanes by person), each in order → mutations.Router
//	         decides the recipients
//	         (file, subscription, authorization), each decision is audited, each copy
//	         minimised → stream DELIVERIES, subject deliveries.<subscription>.<lane>, id
//	         the delivery's idempotency key; the mutation is acknowledged after;
//	deliver: per push subscription, eight durable consumers (lanes), a person always in
//	         the same lane, one message in flight per lane (the subscriber sees a
//	         person's changes in order) → DCI notify, signed by the hub,
//	         with the key in an Idempotency-Key header; 2xx acknowledges, anything else
//	         retries with exponential back-off and jitter.
//
// The relay starts at the end of the log on its first run: a nation's synthetic history
// is not replayed to subscribers. At-least-once: a crash between a stage's output and
// its acknowledgement repeats work, and the idempotency keys make the repeats
// recognisable.

const (
	streamMutations  = "MUTATIONS"
	streamDeliveries = "DELIVERIES"
	streamDead       = "DEAD" // copies given up on, by subscription, until sent again
	relayEvery       = 200 * time.Millisecond
	relayBatch       = 1000
	eventsRefresh    = time.Second
	deliverTimeout   = 10 * time.Second
)

// events runs the three stages.
type events struct {
	bus    *bus.Bus
	status jetstream.KeyValue // the last outcome of each copy, by key, for 30 days
	civil  population.Store
	router *mutations.Router
	audit  *audit.Log
	keys   *oauth.KeySet
	dir    *directory.Directory
	client *http.Client
	log    *slog.Logger

	subs    atomic.Pointer[[]directory.Subscription]
	mu      sync.Mutex
	running map[string]deliverer // push deliveries, by subscription
	wg      sync.WaitGroup
	stop    context.CancelFunc

	delivered, failed, routed atomic.Int64
	metrics                   *prometheus.CounterVec // crossroads_mutation_outcomes_total{state}
	maxAge                    time.Duration          // how long a copy is retried before it is set aside

	pullMu sync.Mutex
	pulled map[string]jetstream.Msg // pulled, not yet acknowledged: subscription + key

	feedMu sync.Mutex
	feed   map[chan []byte]struct{} // tails: every outcome, as a JSON line
}

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
	if o.Key != "" {
		e.recordStatus(o)
	}
	e.feedMu.Lock()
	defer e.feedMu.Unlock()
	if len(e.feed) == 0 {
		return
	}
	o.Time = time.Now().UTC().Format(time.RFC3339Nano)
	b, _ := json.Marshal(o)
	for ch := range e.feed {
		select {
		case ch <- b:
		default:
		}
	}
}

// statusKey is a copy's key in the status bucket, whose keys allow no ':'.
func statusKey(key string) string {
	return strings.NewReplacer(":", "_", "/", ".", "#", "_").Replace(key)
}

// recordStatus keeps the last outcome of a copy. It does not wait for the bus's
// acknowledgement (a put to the bucket is a publish on its subject): the status is for
// operators, and the copy's own state is in the delivery stream.
func (e *events) recordStatus(o outcome) {
	o.Time = time.Now().UTC().Format(time.RFC3339Nano)
	b, _ := json.Marshal(o)
	if _, err := e.bus.JS.PublishAsync("$KV.DELIVERY_STATUS."+statusKey(o.Key), b); err != nil {
		e.log.Warn("record a delivery status", "key", o.Key, "err", err)
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

// Tail returns the outcomes from now on, until ctx ends.
func (e *events) Tail(ctx context.Context) <-chan []byte {
	ch := make(chan []byte, 1024)
	e.feedMu.Lock()
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
		Routed        int64                `json:"routed"`
		Delivered     int64                `json:"delivered"`
		Failed        int64                `json:"failed_attempts"`
		Subscriptions []SubscriptionStatus `json:"subscriptions"`
	}{Routed: e.routed.Load(), Delivered: e.delivered.Load(), Failed: e.failed.Load(), Subscriptions: []SubscriptionStatus{}}
	e.mu.Lock()
	running := maps.Clone(e.running)
	e.mu.Unlock()
	for _, id := range slices.Sorted(maps.Keys(running)) {
		st := SubscriptionStatus{Subscription: id, Endpoint: running[id].endpoint}
		for l := range partitions {
			c, err := e.bus.JS.Consumer(ctx, streamDeliveries, "deliver-"+consumerName(id)+"-"+strconv.Itoa(l))
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

// deliverer is a subscription's running delivery consumers and the endpoint they push to.
type deliverer struct {
	endpoint string
	cc       []jetstream.ConsumeContext
}

func (d deliverer) stop() {
	for _, c := range d.cc {
		c.Stop()
	}
}

// partitions is how many delivery lanes a subscription has. A person's changes always
// take the same lane, one at a time, so a subscriber sees them in order; the lanes run
// side by side.
const partitions = 8

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
func startEvents(ctx context.Context, cfg Config, st *Stores, x *stack, reg prometheus.Registerer) (*events, error) {
	b, err := bus.Open(ctx, bus.Config{URL: cfg.NATS, Dir: eventsDir(cfg), Name: "crossroads-hub"})
	if err != nil {
		return nil, err
	}
	for _, sc := range []jetstream.StreamConfig{
		{Name: streamMutations, Subjects: []string{"mutations.>"}, Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute},
		{Name: streamDeliveries, Subjects: []string{"deliveries.>"}, Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute},
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
	e := &events{bus: b, status: status, civil: st.Civil.Population(), audit: x.audit, keys: x.keys, dir: st.Directory,
		client: cfg.Callbacks, log: x.log, running: map[string]deliverer{}, feed: map[chan []byte]struct{}{}, maxAge: cmp.Or(cfg.DeliveryMaxAge, 24*time.Hour),
		metrics: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crossroads_mutation_outcomes_total",
			Help: "Mutations routed and copies withheld, delivered or failed (one per attempt)."}, []string{"state"})}
	if reg != nil {
		if err := reg.Register(e.metrics); err != nil {
			b.Close()
			return nil, err
		}
	}
	if e.client == nil {
		e.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	e.router = &mutations.Router{Files: x.index.Files, Subscriptions: func() []directory.Subscription { return *e.subs.Load() },
		Policy: func() *exchange.Policy { return x.exchange.Policy() }}
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
			for _, ev := range evs {
				body, _ := json.Marshal(ev)
				msg := &nats.Msg{Subject: "mutations.civil." + lane(ev.Person), Data: body, Header: nats.Header{}}
				msg.Header.Set("Crossroads-Seq", strconv.FormatInt(ev.Seq, 10))
				if _, err := e.bus.JS.PublishMsg(ctx, msg, jetstream.WithMsgID("civil:"+strconv.FormatInt(ev.Seq, 10))); err != nil {
					if ctx.Err() == nil {
						e.log.Warn("publish a mutation", "seq", ev.Seq, "err", err)
					}
					evs = nil
					break
				}
				last = ev.Seq
			}
			if len(evs) < relayBatch {
				break
			}
		}
	}
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
	m, err := s.GetLastMsgForSubject(ctx, "mutations.civil.*")
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return end, nil // first run
	}
	if err != nil {
		return 0, err
	}
	last, err := strconv.ParseInt(m.Header.Get("Crossroads-Seq"), 10, 64)
	if err != nil || last > end {
		// The bus has seen a longer log than this register holds: another register.
		e.log.Warn("the event bus does not match the register; relaying from the register's end", "bus", last, "register", end)
		return end, nil
	}
	return last, nil
}

// startRouter consumes mutations, lane by lane in order, and publishes their deliveries.
func (e *events) startRouter(ctx context.Context) error {
	for l := range partitions {
		c, err := e.bus.JS.CreateOrUpdateConsumer(ctx, streamMutations, jetstream.ConsumerConfig{
			Durable: "router-" + strconv.Itoa(l), FilterSubject: "mutations.*." + strconv.Itoa(l),
			AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 1, AckWait: 10 * time.Second})
		if err != nil {
			return fmt.Errorf("router consumer: %w", err)
		}
		cc, err := c.Consume(func(msg jetstream.Msg) {
			if err := e.route(ctx, msg.Data()); err != nil {
				e.log.Warn("route a mutation", "err", err)
				_ = msg.NakWithDelay(time.Second)
				return
			}
			_ = msg.Ack()
		})
		if err != nil {
			return err
		}
		e.wg.Add(1)
		go func() { defer e.wg.Done(); <-ctx.Done(); cc.Stop() }()
	}
	return nil
}

// RemoteChange is a change a remote authentic source notified (DCI notify), as the router
// takes it.
type RemoteChange struct {
	Source  string         `json:"source"`  // the source's institution
	Service string         `json:"service"` // the directory service its data belong to
	ID      string         `json:"id"`      // the change's id: remote:<institution>:<transaction>/<reference>/<n>
	Type    string         `json:"type"`
	Person  string         `json:"person"`
	Date    date.Date      `json:"date"`
	Record  map[string]any `json:"record"`
}

// Ingest takes a remote source's change onto the bus, to be routed as the register's are;
// m.ID is its idempotency key: a change notified twice is routed once.
func (e *events) Ingest(ctx context.Context, m mutations.Mutation) error {
	c := RemoteChange{Source: m.Source, Service: m.Service, ID: m.ID, Type: m.Type, Person: m.Person, Date: m.Date, Record: m.Record}
	body, _ := json.Marshal(map[string]any{"remote": c})
	_, err := e.bus.JS.Publish(ctx, "mutations.remote."+lane(c.Person), body, jetstream.WithMsgID(c.ID))
	return err
}

// delivery is what the deliveries stream carries.
type delivery struct {
	Key          string         `json:"key"`
	LastError    string         `json:"last_error,omitempty"` // set aside: why the last attempt failed
	Attempts     uint64         `json:"attempts,omitempty"`
	Subscription string         `json:"subscription"`
	Institution  string         `json:"institution"`
	Type         string         `json:"type"`
	Person       string         `json:"person"`
	Date         string         `json:"date"`
	Record       map[string]any `json:"record"`
}

// route decides the recipients of one mutation, records the decisions and publishes
// the deliveries.
func (e *events) route(ctx context.Context, data []byte) error {
	var remote struct {
		Remote *RemoteChange `json:"remote"`
	}
	if json.Unmarshal(data, &remote) == nil && remote.Remote != nil {
		c := remote.Remote
		return e.deliverAll(ctx, data, mutations.Mutation{Source: c.Source, Service: c.Service, ID: c.ID, Type: c.Type,
			Person: c.Person, Date: c.Date, Record: c.Record})
	}
	var ev population.Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil // not a mutation: dropped, nothing to retry
	}
	p, err := e.civil.Person(ctx, ev.Person)
	if fault.KindOf(err) == fault.NotFound {
		e.log.Warn("a mutation of a person the register does not hold: dropped", "seq", ev.Seq)
		return nil // retrying would not find the person either
	}
	if err != nil {
		return err
	}
	rec, _ := civil.Record(&p)
	if ev.Date.IsZero() { // a change without a date: as of the day it was recorded
		ev.Date = date.FromTime(ev.RecordedAt)
	}
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
	return e.deliverAll(ctx, data, m)
}

// deliverAll routes m (data is how it came), records the decisions and publishes the
// copies.
func (e *events) deliverAll(ctx context.Context, data []byte, m mutations.Mutation) error {
	deliveries, decisions := e.router.Route(m)
	bodies := make(map[string][]byte, len(deliveries))
	for _, d := range deliveries {
		bodies[d.Subscription.ID], _ = json.Marshal(delivery{Key: d.Key, Subscription: d.Subscription.ID, Institution: d.Subscription.Institution,
			Type: m.Type, Person: m.Person, Date: m.Date.String(), Record: d.Record})
	}
	// Every decision is recorded, with the hash of the mutation and of what was sent.
	// The decisions are appended together (one commit of the audit log), and the copies
	// published together; the mutation is acknowledged when all are stored.
	requestHash := sha256.Sum256(data)
	errs := make(chan error, len(decisions))
	for _, d := range decisions {
		result, decision := "withheld", "deny"
		if d.Deliver {
			result, decision = "routed", "permit"
		}
		responseHash := sha256.Sum256(bodies[d.Subscription])
		rec := audit.Record{Client: "crossroads:events", Institution: d.Institution,
			Service: "mutation:" + m.Type, Persons: []string{m.Person}, Decision: decision, Reasons: []string{d.Reason},
			Outcome: result, Status: 200, RequestHash: hex.EncodeToString(requestHash[:]), ResponseHash: hex.EncodeToString(responseHash[:])}
		go func() { _, err := e.audit.Append(ctx, rec); errs <- err }()
		if !d.Deliver {
			e.publish(outcome{State: "withheld", Subscription: d.Subscription, Institution: d.Institution, Type: m.Type, Seq: m.Seq, Reason: d.Reason})
		}
	}
	for range decisions {
		if err := <-errs; err != nil {
			return err
		}
	}
	acks := make([]jetstream.PubAckFuture, 0, len(deliveries))
	for _, d := range deliveries {
		f, err := e.bus.JS.PublishAsync(deliverySubject(d.Subscription.ID, m.Person), bodies[d.Subscription.ID], jetstream.WithMsgID(d.Key))
		if err != nil {
			return err
		}
		acks = append(acks, f)
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
	e.routed.Add(1)
	for _, d := range deliveries {
		e.publish(outcome{State: "routed", Key: d.Key, Subscription: d.Subscription.ID, Institution: d.Subscription.Institution, Type: m.Type, Seq: m.Seq})
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

// syncDeliverers runs a delivery consumer for each push subscription in force, and
// stops those of subscriptions no longer in force.
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
		d := deliverer{endpoint: s.Endpoint}
		for lane := range partitions {
			c, err := e.bus.JS.CreateOrUpdateConsumer(ctx, streamDeliveries, jetstream.ConsumerConfig{
				Durable:       "deliver-" + consumerName(id) + "-" + strconv.Itoa(lane),
				FilterSubject: "deliveries." + id + "." + strconv.Itoa(lane), AckPolicy: jetstream.AckExplicitPolicy,
				MaxAckPending: 1, AckWait: deliverTimeout + 5*time.Second, MaxDeliver: -1})
			if err == nil {
				var cc jetstream.ConsumeContext
				if cc, err = c.Consume(func(msg jetstream.Msg) { e.deliver(ctx, d.endpoint, msg) }); err == nil {
					d.cc = append(d.cc, cc)
				}
			}
			if err != nil && ctx.Err() == nil {
				e.log.Warn("delivery consumer", "subscription", id, "err", err)
			}
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

// deliver pushes one delivery as DCI notify; the next waits until it is acknowledged.
func (e *events) deliver(ctx context.Context, endpoint string, msg jetstream.Msg) {
	var d delivery
	if err := json.Unmarshal(msg.Data(), &d); err != nil {
		_ = msg.Term()
		return
	}
	err := e.push(ctx, endpoint, d)
	n, stored := uint64(1), time.Now()
	if md, merr := msg.Metadata(); merr == nil {
		n, stored = md.NumDelivered, md.Timestamp
	}
	if err == nil {
		e.delivered.Add(1)
		_ = msg.Ack()
		e.publish(outcome{State: "delivered", Key: d.Key, Subscription: d.Subscription, Institution: d.Institution, Type: d.Type, Attempt: n})
		return
	}
	e.failed.Add(1)
	e.publish(outcome{State: "failed", Key: d.Key, Subscription: d.Subscription, Institution: d.Institution, Type: d.Type, Attempt: n, Reason: err.Error()})
	if time.Since(stored) > e.maxAge {
		// Too old to keep trying: set aside, where operators see it and can send it again.
		d.LastError, d.Attempts = err.Error(), n
		body, _ := json.Marshal(d)
		if _, perr := e.bus.JS.Publish(ctx, "dead."+d.Subscription, body, jetstream.WithMsgID(d.Key)); perr == nil {
			_ = msg.Term()
			e.publish(outcome{State: "dead", Key: d.Key, Subscription: d.Subscription, Institution: d.Institution, Type: d.Type, Attempt: n, Reason: err.Error()})
			return
		}
	}
	// Exponential back-off with jitter: 1 s, 2 s, 4 s … up to 5 min.
	wait := min(time.Second<<min(n-1, 9), 5*time.Minute)
	wait += time.Duration(rand.Int64N(int64(wait / 4)))
	e.log.Debug("delivery failed", "subscription", d.Subscription, "key", d.Key, "attempt", n, "err", err)
	_ = msg.NakWithDelay(wait)
}

// push posts the notify message.
func (e *events) push(ctx context.Context, endpoint string, d delivery) error {
	now := time.Now()
	header := dci.CallbackHeader{Version: dci.Version, MessageID: d.Key, MessageTS: dci.Timestamp(now), Action: dci.ActionNotify,
		Status: dci.StatusSuccess, TotalCount: 1, CompletedCount: 1, SenderID: "crossroads", ReceiverID: d.Institution}
	message := map[string]any{"transaction_id": d.Key, "notify_event": []any{map[string]any{
		"reference_id": d.Key, "timestamp": dci.Timestamp(now), "locale": "eng",
		"data": map[string]any{"version": dci.Version, "reg_type": "ns:org:RegistryType:Civil", "reg_event_type": d.Type,
			"reg_record_type": civil.RecordType, "reg_records": []any{d.Record}},
	}}}
	h, _ := json.Marshal(header)
	m, _ := json.Marshal(message)
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
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", d.Key)
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
