package events

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bus"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/lease"
	"github.com/crossroads-hub/crossroads/internal/outbound"
)

// The delivery of push subscriptions. Each subscription has four lanes (a person's
// changes always take the same lane); each lane is one goroutine over one queue of the
// DELIVERIES stream, and works batch by batch:
//
//   - it takes what is waiting, up to deliverBatch copies in stream order (it waits for
//     the first one only: a lone change goes out at once);
//   - it sends them in ONE DCI notify, one event per copy, in that order, each event's
//     reference_id the copy's idempotency key, signed once (notify.go);
//   - a 2xx answer acknowledges the batch (its last copy, confirmed by the bus);
//     anything else and the lane keeps the batch and sends it again itself, after 1 s,
//     2 s, 4 s … at most 12 s (deliverBackoff, plus up to a quarter of jitter), telling the bus the
//     batch is in progress meanwhile; it fetches nothing more until the batch is
//     acknowledged, so a person's later changes never overtake earlier ones; copies older
//     than the maximum age are set aside in DEAD (the oldest first) and the rest retried.
//
// After a crash the copies of an unacknowledged batch are still pending in the queue;
// the bus would hand out newer copies before redelivering them, so a lane that starts
// on a queue with copies pending first recreates it from its acknowledgement floor
// (bus.Lane): the unacknowledged copies come again, first and in order. One hub
// delivers a subscription's lanes at a time (the embedded bus is the process's own;
// several hubs on one external cluster would share the lanes).
const (
	deliverBatch   = 100              // copies per notify, at most
	deliverAckWait = 30 * time.Second // a fetched batch in progress is renewed every third of this
)

// deliverBackoff is the wait between two attempts to push a batch: 1 s, 2 s, 4 s … 12 s
// at most, plus up to a quarter of jitter.
var deliverBackoff = outbound.Backoff{First: time.Second, Max: 12 * time.Second, Jitter: 0.25}

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

// laneConsumerName is the queue of a subscription's lane. The queues acknowledge
// batches, which JetStream cannot change in place in the consumers of earlier versions
// ("deliver-…", one copy at a time): a lane takes over from such a consumer where it
// stopped, and deletes it.
func laneConsumerName(subscription string, lane int) string {
	return "push-" + consumerName(subscription) + "-" + strconv.Itoa(lane)
}

// laneQueue opens the queue of a subscription's delivery lane.
func (p *Pipeline) laneQueue(ctx context.Context, subscription string, lane int) (*bus.Queue, error) {
	l := strconv.Itoa(lane)
	return p.bus.Lane(ctx, bus.Lane{
		Stream:        streamDeliveries,
		Name:          laneConsumerName(subscription, lane),
		Subject:       "deliveries." + subscription + "." + l,
		MaxAckPending: deliverBatch,
		AckWait:       deliverAckWait,
		Previous:      "deliver-" + consumerName(subscription) + "-" + l,
	})
}

// syncDeliverers runs the delivery lanes of each push subscription in force, and stops
// those of subscriptions no longer in force (or whose endpoint changed).
func (p *Pipeline) syncDeliverers(ctx context.Context) {
	want := map[string]directory.Subscription{}
	for _, s := range *p.subs.Load() {
		if s.Mode == directory.ModePush && s.Endpoint != "" {
			want[s.ID] = s
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, d := range p.running {
		if s, ok := want[id]; !ok || s.Endpoint != d.endpoint {
			d.stop()
			delete(p.running, id)
		}
	}
	for id, s := range want {
		if _, ok := p.running[id]; ok {
			continue
		}
		lctx, cancel := context.WithCancel(ctx)
		d := deliverer{endpoint: s.Endpoint, cancel: cancel, done: &sync.WaitGroup{}}
		for l := range partitions {
			d.done.Add(1)
			go func() { defer d.done.Done(); p.runLane(lctx, d.endpoint, id, l) }()
		}
		p.running[id] = d
	}
}

// runLane opens a subscription's delivery lane, asking again every second while the bus
// cannot (a NATS server stopped, a consumer's leader being elected: a lane left closed
// would hold its copies until the subscriptions change), then delivers its copies, batch
// by batch, until ctx ends.
func (p *Pipeline) runLane(ctx context.Context, endpoint, subscription string, lane int) {
	var q *bus.Queue
	for q == nil {
		var err error
		if q, err = p.laneQueue(ctx, subscription, lane); err != nil {
			if ctx.Err() != nil {
				return
			}
			p.log.Warn("delivery consumer", "subscription", subscription, "lane", lane, "err", err)
			sleep(ctx, time.Second)
		}
	}
	for ctx.Err() == nil {
		msgs, err := q.Next(ctx, deliverBatch)
		if err != nil && ctx.Err() == nil {
			p.log.Warn("fetch copies to deliver", "consumer", q.Name(), "err", err)
			sleep(ctx, time.Second)
			continue
		}
		if len(msgs) > 0 {
			p.deliverBatch(ctx, endpoint, msgs)
		}
	}
}

// queued is a copy of a fetched batch.
type queued struct {
	msg    *bus.Received
	d      delivery
	stored time.Time
}

// deliverBatch pushes a batch until the subscriber takes it (or its copies are set aside),
// then acknowledges it. It returns early, the batch unacknowledged, only when ctx ends.
func (p *Pipeline) deliverBatch(ctx context.Context, endpoint string, msgs []*bus.Received) {
	batch := make([]queued, 0, len(msgs))
	first := uint64(1)
	for i, m := range msgs {
		q := queued{msg: m, stored: time.Now()}
		if md, err := m.Meta(); err == nil {
			q.stored = md.Stored
			if i == 0 {
				first = md.Delivered
			}
		}
		if json.Unmarshal(m.Data(), &q.d) != nil {
			continue // not a copy: acknowledged with the batch
		}
		batch = append(batch, q)
	}
	for n := first; len(batch) > 0; n++ {
		err := p.push(ctx, endpoint, batch)
		if err == nil {
			p.out.delivered.Add(int64(len(batch)))
			for _, q := range batch {
				p.out.publish(outcome{State: "delivered", Key: q.d.Key, Subscription: q.d.Subscription, Institution: q.d.Institution, Type: q.d.Type, Attempt: n})
			}
			break
		}
		if ctx.Err() != nil {
			return // stopping: the batch is sent again by the next lanes, first
		}
		p.out.failed.Add(int64(len(batch)))
		for _, q := range batch {
			p.out.publish(outcome{State: "failed", Key: q.d.Key, Subscription: q.d.Subscription, Institution: q.d.Institution, Type: q.d.Type, Attempt: n, Reason: err.Error()})
		}
		p.log.Debug("delivery failed", "subscription", batch[0].d.Subscription, "copies", len(batch), "attempt", n, "err", err)
		if batch = p.setAside(ctx, batch, n, err); len(batch) == 0 {
			break
		}
		if !p.backOff(ctx, batch, n) {
			return
		}
	}
	// Acknowledging the last copy acknowledges the batch.
	ackAll(ctx, p.log, msgs[len(msgs)-1])
}

// setAside moves the copies of a batch too old to keep trying (the oldest are first) to
// DEAD, where operators see them and can send them again; it returns the rest.
func (p *Pipeline) setAside(ctx context.Context, batch []queued, attempt uint64, failure error) []queued {
	dead := 0
	for dead < len(batch) && time.Since(batch[dead].stored) > p.maxAge {
		q := &batch[dead]
		q.d.LastError, q.d.Attempts = failure.Error(), attempt
		body, _ := json.Marshal(q.d)
		if _, err := p.bus.Publish(ctx, bus.Msg{Subject: "dead." + q.d.Subscription, Data: body, ID: q.d.Key}); err != nil {
			break
		}
		p.out.publish(outcome{State: "dead", Key: q.d.Key, Subscription: q.d.Subscription, Institution: q.d.Institution, Type: q.d.Type, Attempt: attempt, Reason: failure.Error()})
		dead++
	}
	if dead == 0 || lease.Confirm(ctx) != nil { // a replica that lost the lease acknowledges nothing
		return batch
	}
	_ = batch[dead-1].msg.Ack() // this copy and those before it
	return batch[dead:]
}

// backOff waits before attempt n+1 (exponential, with jitter), keeping the batch in
// progress on the bus meanwhile; it reports false when ctx ended first.
func (p *Pipeline) backOff(ctx context.Context, batch []queued, n uint64) bool {
	wait := deliverBackoff.Delay(int(min(n, 64)))
	for until := time.Now().Add(wait); time.Now().Before(until); {
		if !sleep(ctx, min(time.Until(until), deliverAckWait/3)) {
			return false
		}
		for _, q := range batch {
			_ = q.msg.InProgress()
		}
	}
	return true
}
