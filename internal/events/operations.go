package events

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bus"
)

// What operators ask of the pipeline (GET /admin/events…, crossroads events): counts
// and backlogs, the last outcome of each copy, the copies set aside, and sending them
// again.

// Status is the pipeline as operators see it: outcomes counted since start and each
// push subscription's backlog.
type Status struct {
	Changes       int64                `json:"changes"`  // changes routed
	Routed        int64                `json:"routed"`   // copies routed to subscribers
	Withheld      int64                `json:"withheld"` // copies withheld (no authorization)
	Delivered     int64                `json:"delivered"`
	Failed        int64                `json:"failed_attempts"`
	Subscriptions []SubscriptionStatus `json:"subscriptions"`
}

// SubscriptionStatus is the state of one push subscription's deliveries.
type SubscriptionStatus struct {
	Subscription string `json:"subscription"`
	Endpoint     string `json:"endpoint"`
	Pending      uint64 `json:"pending"`     // copies not yet sent
	InFlight     int    `json:"in_flight"`   // sent, not yet acknowledged
	Redelivered  int    `json:"redelivered"` // being retried
}

// Status counts the outcomes since start and reads each push subscription's backlog.
func (p *Pipeline) Status(ctx context.Context) (Status, error) {
	out := Status{Changes: p.out.changes.Load(), Routed: p.out.routed.Load(), Withheld: p.out.withheld.Load(),
		Delivered: p.out.delivered.Load(), Failed: p.out.failed.Load(), Subscriptions: []SubscriptionStatus{}}
	p.mu.Lock()
	running := maps.Clone(p.running)
	p.mu.Unlock()
	for _, id := range slices.Sorted(maps.Keys(running)) {
		st := SubscriptionStatus{Subscription: id, Endpoint: running[id].endpoint}
		for l := range partitions {
			q, err := p.bus.QueueState(ctx, streamDeliveries, laneConsumerName(id, l))
			if err != nil {
				continue
			}
			st.Pending += q.Pending
			st.InFlight += q.AckPending
			st.Redelivered += q.Redelivered
		}
		out.Subscriptions = append(out.Subscriptions, st)
	}
	return out, nil
}

// Deliveries returns the last outcome of each copy of a change (id "civil:<seq>" or
// "remote:…"), or, with one, of the copy whose key is id.
func (p *Pipeline) Deliveries(ctx context.Context, id string, one bool) ([]json.RawMessage, error) {
	filter := statusKey(id)
	if !one {
		filter += ".*"
	}
	keys, err := p.status.Keys(ctx, filter)
	if err != nil {
		return nil, err
	}
	out := []json.RawMessage{}
	for _, k := range keys {
		v, err := p.status.Get(ctx, k)
		if err != nil {
			continue
		}
		out = append(out, json.RawMessage(v))
	}
	return out, nil
}

// deadReadWait is how long reading the copies set aside waits for them.
const deadReadWait = 2 * time.Second

// Dead lists the copies set aside for a subscription ("": every subscription), at most
// limit.
func (p *Pipeline) Dead(ctx context.Context, subscription string, limit int) ([]json.RawMessage, error) {
	dead, err := p.readDead(ctx, subscription, limit)
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(dead))
	for i, m := range dead {
		out[i] = json.RawMessage(m.Data)
	}
	return out, nil
}

func (p *Pipeline) readDead(ctx context.Context, subscription string, limit int) ([]bus.Stored, error) {
	subject := "dead.>"
	if subscription != "" {
		subject = "dead." + subscription
	}
	return p.bus.Read(ctx, streamDead, subject, limit, deadReadWait)
}

// Retry sends a subscription's copies set aside again, in their order, and clears
// those; it returns how many. Each keeps its idempotency key. Only what was read is
// cleared (the subject purged up to the last stream sequence read): a copy set aside
// while Retry runs, or beyond what one read takes, stays set aside for the next.
func (p *Pipeline) Retry(ctx context.Context, subscription string) (int, error) {
	dead, err := p.readDead(ctx, subscription, cmp.Or(p.deadReadLimit, 100000))
	if err != nil || len(dead) == 0 {
		return 0, err
	}
	now := strconv.FormatInt(time.Now().UnixNano(), 36)
	for _, m := range dead {
		var d delivery
		if json.Unmarshal(m.Data, &d) != nil {
			continue // not a copy: cleared with the others
		}
		d.LastError, d.Attempts = "", 0
		body, _ := json.Marshal(d)
		// A new message id: the first copy may still be in the duplicate window.
		if _, err := p.bus.Publish(ctx, bus.Msg{Subject: deliverySubject(d.Subscription, d.Person), Data: body, ID: d.Key + "#retry-" + now}); err != nil {
			return 0, err
		}
	}
	if p.afterDeadRead != nil {
		p.afterDeadRead()
	}
	if err := p.bus.Purge(ctx, streamDead, "dead."+subscription, dead[len(dead)-1].Seq); err != nil {
		return 0, err
	}
	return len(dead), nil
}
