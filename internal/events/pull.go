package events

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bus"
)

// A pull subscription's copies are handed out by one durable JetStream consumer per
// subscription ("pull-<subscription>"), which every replica of the hub reads: the bus
// hands each copy to one puller at a time, and again only once its acknowledgement
// has not come within pullAckWait. What a replica would otherwise have to remember, the
// hand-out by which a copy is acknowledged, is kept in the bucket PULLED, under the
// subscription and the copy's key: a copy pulled from one replica may be acknowledged
// at any other, even once the first is gone (docs/ARCHITECTURE.md, "Pulled copies,
// shared").

// pullAckWait is how long a pulled copy waits for its acknowledgement before it is
// offered again.
const pullAckWait = time.Minute

// pulledTTL is how long a hand-out is remembered: well past pullAckWait, since the bus
// hands a copy out again only when a puller asks, and until then one hub would take a
// late acknowledgement too.
const pulledTTL = 10 * pullAckWait

// ackWorkers is how many acknowledgements of one request run at once: each is three
// round trips to the bus.
const ackWorkers = 8

// MaxKeyLen is the longest key of a copy Ack looks for (a copy's key is a change's id
// and a subscription's: civil:<seq>/<subscription>, remote:…/<subscription>).
const MaxKeyLen = 300

// pulledKey is the bucket key of the hand-out of the copy key of subscription: both
// encoded, as they hold characters a bucket key may not.
func pulledKey(subscription, key string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(subscription)) + "." + enc.EncodeToString([]byte(key))
}

// Next gives a pull subscription's next copies, at most max, waiting up to wait for the
// first (none when ctx ends first); each must be acknowledged with Ack within a minute,
// or it is offered again.
func (p *Pipeline) Next(ctx context.Context, subscription string, max int, wait time.Duration) ([]json.RawMessage, error) {
	q, err := p.bus.Pull(ctx, streamDeliveries, "pull-"+consumerName(subscription), "deliveries."+subscription+".>", p.ackWait())
	if err != nil {
		if ctx.Err() != nil {
			return []json.RawMessage{}, nil // the wait ended before it began
		}
		return nil, fmt.Errorf("pull: open the queue: %w", err)
	}
	msgs, err := q.Fetch(ctx, max, wait)
	if err != nil {
		return nil, fmt.Errorf("pull: fetch: %w", err)
	}
	out := []json.RawMessage{}
	var handed []bus.Entry
	var taken []*bus.Received
	for _, m := range msgs {
		var d delivery
		if json.Unmarshal(m.Data(), &d) != nil {
			_ = m.Term()
			continue
		}
		handed = append(handed, bus.Entry{Key: pulledKey(subscription, d.Key), Value: []byte(m.Handle())})
		taken = append(taken, m)
		out = append(out, json.RawMessage(m.Data()))
	}
	if len(handed) == 0 {
		return out, nil
	}
	// Remembered before they are handed out: an acknowledgement may reach any replica
	// as soon as the answer leaves. Not remembered, they are offered again at once.
	pulled, err := p.pulledBucket(context.WithoutCancel(ctx))
	if err == nil {
		err = pulled.PutMany(context.WithoutCancel(ctx), handed)
	}
	if err != nil {
		for _, m := range taken {
			_ = m.Nak()
		}
		return nil, err
	}
	return out, nil
}

// Ack acknowledges pulled copies of subscription by key, whichever replica handed them
// out; it returns how many it acknowledged and the keys it did not know: never handed
// out to this subscription (another's copy, a key made up), already acknowledged, or
// handed out too long ago. Of two acknowledgements of one copy at once, one counts.
func (p *Pipeline) Ack(ctx context.Context, subscription string, keys []string) (int, []string, error) {
	var (
		mu      sync.Mutex
		n       int
		unknown []string
		errs    []error
		wg      sync.WaitGroup
		next    = make(chan string)
	)
	for range min(ackWorkers, len(keys)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				ok, err := p.ackOne(ctx, subscription, k)
				mu.Lock()
				switch {
				case err != nil:
					errs = append(errs, err)
				case ok:
					n++
				default:
					unknown = append(unknown, k)
				}
				mu.Unlock()
			}
		}()
	}
	for _, k := range keys {
		next <- k
	}
	close(next)
	wg.Wait()
	if len(unknown) > 0 {
		p.log.Info("pull: acknowledgement of copies not handed out to the subscription", "subscription", subscription,
			"unknown", len(unknown), "first", unknown[0])
	}
	return n, unknown, errors.Join(errs...)
}

// ackOne acknowledges the copy key of subscription: it takes the hand-out from the
// bucket (a delete at the revision read, so that one acknowledgement of several takes
// it), then acknowledges it on the bus. ok is false when there is no hand-out to take.
func (p *Pipeline) ackOne(ctx context.Context, subscription, key string) (ok bool, err error) {
	if key == "" || len(key) > MaxKeyLen {
		return false, nil // no copy has such a key
	}
	pulled, err := p.pulledBucket(ctx)
	if err != nil {
		return false, err
	}
	bk := pulledKey(subscription, key)
	for range 3 { // the copy handed out again meanwhile: take the new hand-out
		e, err := pulled.Entry(ctx, bk)
		if errors.Is(err, bus.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		taken, err := pulled.DeleteIf(ctx, bk, e.Revision)
		if err != nil {
			return false, err
		}
		if !taken {
			continue
		}
		if err := p.bus.AckHandle(ctx, string(e.Value)); err != nil {
			// Not acknowledged: the hand-out is put back for the caller's next try;
			// failing that, the copy is offered again after pullAckWait.
			_, _ = pulled.Create(context.WithoutCancel(ctx), bk, e.Value)
			return false, err
		}
		p.out.delivered.Add(1)
		p.out.publish(outcome{State: "delivered", Key: key, Subscription: subscription})
		return true, nil
	}
	return false, nil
}

// pulledBucket opens the bucket of hand-outs at the first pull or acknowledgement:
// most hubs have no pull subscription, and a start need not wait for it.
func (p *Pipeline) pulledBucket(ctx context.Context) (*bus.Bucket, error) {
	p.pullMu.Lock()
	defer p.pullMu.Unlock()
	if p.pulled == nil {
		b, err := p.bus.ConsistentBucket(ctx, "PULLED", pulledTTL)
		if err != nil {
			return nil, fmt.Errorf("pull: open the hand-outs: %w", err)
		}
		p.pulled = b
	}
	return p.pulled, nil
}

// ackWait is how long a pulled copy waits for its acknowledgement.
func (p *Pipeline) ackWait() time.Duration {
	if p.pullAckWait > 0 {
		return p.pullAckWait
	}
	return pullAckWait
}
