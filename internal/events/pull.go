package events

import (
	"context"
	"encoding/json"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bus"
)

// pullAckWait is how long a pulled copy waits for its acknowledgement before it is
// offered again.
const pullAckWait = time.Minute

// Next gives a pull subscription's next copies, at most max, waiting up to wait for the
// first (none when ctx ends first); each must be acknowledged with Ack within a minute,
// or it is offered again.
func (p *Pipeline) Next(ctx context.Context, subscription string, max int, wait time.Duration) ([]json.RawMessage, error) {
	q, err := p.bus.Pull(ctx, streamDeliveries, "pull-"+consumerName(subscription), "deliveries."+subscription+".>", pullAckWait)
	if err != nil {
		if ctx.Err() != nil {
			return []json.RawMessage{}, nil // the wait ended before it began
		}
		return nil, err
	}
	msgs, err := q.Fetch(ctx, max, wait)
	if err != nil {
		return nil, err
	}
	out := []json.RawMessage{}
	p.pullMu.Lock()
	defer p.pullMu.Unlock()
	if p.pulled == nil {
		p.pulled = map[string]*bus.Received{}
	}
	for _, m := range msgs {
		var d delivery
		if json.Unmarshal(m.Data(), &d) != nil {
			_ = m.Term()
			continue
		}
		p.pulled[subscription+"\x00"+d.Key] = m
		out = append(out, json.RawMessage(m.Data()))
	}
	return out, nil
}

// Ack acknowledges pulled copies by key; it returns how many it knew.
func (p *Pipeline) Ack(ctx context.Context, subscription string, keys []string) (int, error) {
	p.pullMu.Lock()
	defer p.pullMu.Unlock()
	n := 0
	for _, k := range keys {
		m, ok := p.pulled[subscription+"\x00"+k]
		if !ok {
			continue
		}
		if err := m.AckSync(ctx); err != nil {
			return n, err
		}
		delete(p.pulled, subscription+"\x00"+k)
		n++
		p.out.delivered.Add(1)
		p.out.publish(outcome{State: "delivered", Key: k, Subscription: subscription})
	}
	return n, nil
}
