package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/bus"
	"github.com/crossroads-hub/crossroads/internal/civil"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/mutations"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/rights"
)

// The route step takes a lane's mutations a batch at a time, in order, and for each:
//
//	plan:   the mutation (a register's event, a derived registry's change, a remote
//	        source's notify) with its record as the change left it (the register's
//	        events carry the person so) and the persons it concerns;
//	decide: mutations.Router's recipients; a copy for each, minimised, and an audit
//	        record of every decision, with the hash of the mutation and of the copy;
//	commit: the batch's decisions appended to the audit log together, then its copies
//	        published in order, all stored before the mutations are acknowledged.

// routeBatch is how many mutations a router lane takes at once.
const routeBatch = 100

// routeAckWait is how long a batch taken by a router lane is left before the bus hands
// it out again; the lane says it is in progress while it retries.
const routeAckWait = 30 * time.Second

// publisher is what the route step needs of the bus.
type publisher interface {
	PublishAll(ctx context.Context, msgs []bus.Msg) (int, error)
}

// auditLog is what the route step needs of the audit log.
type auditLog interface {
	Expect(n int) (done func())
	Append(ctx context.Context, r audit.Record) (int64, error)
}

// persons reads the civil register's persons.
type persons interface {
	Person(ctx context.Context, number string) (population.Person, error)
}

// route is the route step.
type route struct {
	persons    persons
	registries map[string]*derived.Source
	service    func(builtin string) string
	decide     *mutations.Router
	audit      auditLog
	bus        publisher
	out        *outcomes
	log        *slog.Logger
}

// delivery is a copy of a change, as the deliveries stream (and a pull subscriber, and
// the dead letters) carry it.
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

// routing is what was decided about one mutation, not yet recorded or published.
type routing struct {
	m       mutations.Mutation
	records []audit.Record // the decisions, for the audit log
	copies  []routedCopy
	held    []outcome // copies withheld
}

type routedCopy struct {
	msg    bus.Msg
	routed outcome
}

// startRouter takes mutations, lane by lane, in order, a batch at a time, and publishes
// their copies.
func (p *Pipeline) startRouter(ctx context.Context, wg *sync.WaitGroup) error {
	for l := range partitions {
		q, err := p.bus.Lane(ctx, bus.Lane{Stream: streamMutations, Name: "route-" + strconv.Itoa(l),
			Subject: "mutations.*." + strconv.Itoa(l), MaxAckPending: routeBatch, AckWait: routeAckWait,
			Previous: "router-" + strconv.Itoa(l)})
		if err != nil {
			return fmt.Errorf("router consumer: %w", err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); p.routeLane(ctx, q) }()
	}
	return nil
}

// routeLane routes a lane's mutations until ctx ends: it takes those waiting (up to
// routeBatch, in order), routes them, then acknowledges them. A mutation that cannot be
// routed (the register does not answer) is retried every second with those after it,
// after the ones before it are acknowledged.
func (p *Pipeline) routeLane(ctx context.Context, q *bus.Queue) {
	for ctx.Err() == nil {
		msgs, err := q.Next(ctx, routeBatch)
		if err != nil && ctx.Err() == nil {
			p.log.Warn("fetch mutations", "consumer", q.Name(), "err", err)
			sleep(ctx, time.Second)
		}
		for len(msgs) > 0 && ctx.Err() == nil {
			data := make([][]byte, len(msgs))
			for i, m := range msgs {
				data[i] = m.Data()
			}
			done, err := p.route.all(ctx, data)
			if done > 0 {
				ackAll(ctx, p.log, msgs[done-1])
				msgs = msgs[done:]
			}
			if err != nil {
				if ctx.Err() == nil {
					p.log.Warn("route a mutation", "err", err)
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

// all routes mutations (as the stream carries them) in order; it returns how many of
// them are done (routed, recorded, their copies stored), and why it stopped short.
func (r *route) all(ctx context.Context, data [][]byte) (int, error) {
	var plans []*routing
	var stop error
	for _, d := range data {
		p, err := r.plan(ctx, d)
		if err != nil {
			stop = err
			break
		}
		plans = append(plans, p) // nil: not a mutation, nothing to do
	}
	if err := r.commit(ctx, plans); err != nil {
		return 0, err
	}
	return len(plans), stop
}

// plan decides the recipients of one mutation; nil when there is nothing to route.
func (r *route) plan(ctx context.Context, data []byte) (*routing, error) {
	var remote struct {
		Remote *RemoteChange `json:"remote"`
	}
	if json.Unmarshal(data, &remote) == nil && remote.Remote != nil {
		return r.decideOn(data, remote.Remote.mutation())
	}
	var ev population.Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, nil // not a mutation: dropped, nothing to retry
	}
	if ev.Date.IsZero() { // a change without a date: as of the day it was recorded
		ev.Date = date.FromTime(ev.RecordedAt)
	}
	if kind := derived.EventRegistry[ev.Type]; kind != "" {
		return r.planRegistry(ctx, data, kind, ev)
	}
	if ev.Type == rights.EventType {
		return r.planRight(data, ev)
	}
	p, err := r.personAfter(ctx, ev)
	if fault.KindOf(err) == fault.NotFound {
		r.log.Warn("a mutation of a person the register does not hold: dropped", "seq", ev.Seq)
		return nil, nil // retrying would not find the person either
	}
	if err != nil {
		return nil, err
	}
	rec, _ := civil.Record(&p)
	m := mutations.Mutation{Source: "civil", Service: r.service("civil"), Seq: ev.Seq, Type: ev.Type, Person: ev.Person,
		Date: ev.Date, Record: rec, Related: related(ev, p)}
	return r.decideOn(data, m)
}

// personAfter is the person as the register's event ev left it: as the event carries it,
// or, for an event recorded before events kept it, as the register holds it now.
func (r *route) personAfter(ctx context.Context, ev population.Event) (population.Person, error) {
	if ev.After != nil {
		return *ev.After, nil
	}
	return r.persons.Person(ctx, ev.Person)
}

// related are the other persons a register's event concerns: a newborn's parents, the
// spouses of a marriage or a divorce.
func related(ev population.Event, p population.Person) []string {
	switch ev.Type {
	case population.EventBirth:
		return nonEmpty(p.Mother, p.Father)
	case population.EventMarriage, population.EventDivorce:
		var d struct {
			Spouse string `json:"spouse"`
		}
		_ = json.Unmarshal(ev.Data, &d)
		return nonEmpty(d.Spouse, p.Spouse)
	}
	return nil
}

// planRegistry decides the recipients of a change declared to a derived registry: it
// carries the person's record in that registry as the change made it (on its date, with
// the changes declared up to it), and is routed under the registry's service.
func (r *route) planRegistry(ctx context.Context, data []byte, kind string, ev population.Event) (*routing, error) {
	src := r.registries[kind]
	if src == nil {
		r.log.Warn("a change of a registry the hub does not serve: dropped", "seq", ev.Seq, "registry", kind)
		return nil, nil
	}
	m := mutations.Mutation{Source: "civil", Service: r.service(kind), Registry: kind, Seq: ev.Seq,
		Type: ev.Type, WireType: derived.WireEventType(ev.Type, ev.Data), Person: ev.Person, Date: ev.Date}
	if !r.decide.Concerns(m) {
		// No institution with a file on the person takes this change: nothing to send and
		// no decision to record, so the record (a household read) is not derived.
		return &routing{m: m}, nil
	}
	rec, err := src.RecordAfter(ctx, ev)
	if fault.KindOf(err) == fault.NotFound || (err == nil && rec == nil) {
		r.log.Warn("a change of a person the registry does not hold: dropped", "seq", ev.Seq, "registry", kind)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m.Record = rec
	return r.decideOn(data, m)
}

// decideOn routes m (data is how it came): the copies, each minimised, and a record of
// every decision, with the hash of the mutation and of what is sent.
func (r *route) decideOn(data []byte, m mutations.Mutation) (*routing, error) {
	deliveries, decisions := r.decide.Route(m)
	out := &routing{m: m}
	bodies := make(map[string][]byte, len(deliveries))
	for _, d := range deliveries {
		record, err := json.Marshal(d.Record)
		if err != nil {
			return nil, err
		}
		body, _ := json.Marshal(delivery{Key: d.Key, Subscription: d.Subscription.ID, Institution: d.Subscription.Institution,
			Type: m.Type, WireType: m.WireType, Registry: m.Registry, RecordType: m.RecordType, Person: m.Person, Date: m.Date.String(), Record: record})
		bodies[d.Subscription.ID] = body
		out.copies = append(out.copies, routedCopy{msg: bus.Msg{Subject: deliverySubject(d.Subscription.ID, m.Person), Data: body, ID: d.Key,
			Order: d.Subscription.ID + " " + m.Person},
			routed: outcome{State: "routed", Key: d.Key, Subscription: d.Subscription.ID, Institution: d.Subscription.Institution, Type: m.Type, Seq: m.Seq}})
	}
	requestHash := sha256.Sum256(data)
	for _, d := range decisions {
		result, decision := "withheld", "deny"
		if d.Deliver {
			result, decision = "routed", "permit"
		}
		responseHash := sha256.Sum256(bodies[d.Subscription])
		out.records = append(out.records, audit.Record{Client: "crossroads:events", Institution: d.Institution,
			Service: "mutation:" + m.Type, Persons: []string{m.Person}, Decision: decision, Reasons: []string{d.Reason},
			Outcome: result, Status: 200, RequestHash: hex.EncodeToString(requestHash[:]), ResponseHash: hex.EncodeToString(responseHash[:])})
		if !d.Deliver {
			out.held = append(out.held, outcome{State: "withheld", Subscription: d.Subscription, Institution: d.Institution, Type: m.Type, Seq: m.Seq, Reason: d.Reason})
		}
	}
	return out, nil
}

// commit records the decisions of a batch of mutations (appended together: one or a
// few commits of the audit log) and then publishes their copies, in order, waiting
// until all are stored; the mutations can then be acknowledged. A failure repeats the
// whole batch (at least once: a decision may be recorded twice, a copy is not published
// twice within the stream's duplicate window).
func (r *route) commit(ctx context.Context, plans []*routing) error {
	if err := r.record(ctx, plans); err != nil {
		return err
	}
	var msgs []bus.Msg
	for _, p := range plans {
		if p == nil {
			continue
		}
		for _, c := range p.copies {
			msgs = append(msgs, c.msg)
		}
	}
	if _, err := r.bus.PublishAll(ctx, msgs); err != nil {
		return err
	}
	for _, p := range plans {
		if p == nil {
			continue
		}
		r.out.changes.Add(1)
		r.out.routed.Add(int64(len(p.copies)))
		r.out.withheld.Add(int64(len(p.held)))
		for _, o := range p.held {
			r.out.publish(o)
		}
		for _, c := range p.copies {
			r.out.publish(c.routed)
		}
	}
	return nil
}

// record appends the decisions of a batch to the audit log, side by side, the log told
// they are coming so that it commits them together.
func (r *route) record(ctx context.Context, plans []*routing) error {
	n := 0
	for _, p := range plans {
		if p != nil {
			n += len(p.records)
		}
	}
	if n == 0 {
		return nil
	}
	done := r.audit.Expect(n)
	defer done()
	errs := make(chan error, n)
	for _, p := range plans {
		if p == nil {
			continue
		}
		for _, rec := range p.records {
			go func() { _, err := r.audit.Append(ctx, rec); errs <- err }()
		}
	}
	var first error
	for range n {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
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

// planRight decides the recipients of a decision of the rights engine (#19): the
// decision with its evidence, routed under the rights service to the institutions
// authorized for that right's purpose (right:<id>) that follow the person.
func (r *route) planRight(data []byte, ev population.Event) (*routing, error) {
	var rec map[string]any
	if err := json.Unmarshal(ev.Data, &rec); err != nil {
		r.log.Warn("a rights decision that is not JSON: dropped", "seq", ev.Seq)
		return nil, nil
	}
	right, _ := rec["right"].(string)
	// The record is the person's, as the rights service's fields name it: the decision
	// under "rights".
	record := map[string]any{"person": ev.Person, "rights": []any{rec}}
	return r.decideOn(data, mutations.Mutation{Source: "civil", Service: r.service("rights"), Registry: "rights", RecordType: "RightDecision",
		Seq: ev.Seq, Type: ev.Type, Purpose: rights.Purpose(right), Person: ev.Person, Date: ev.Date, Record: record})
}
