package bus

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Lane describes a queue read in order, batch by batch: acknowledging a message
// acknowledges those before it.
type Lane struct {
	Stream, Name, Subject string
	// MaxAckPending is how many messages may be out unacknowledged: the largest batch.
	MaxAckPending int
	// AckWait is how long a message out is left before it is handed out again, unless
	// its reader says it is still in progress.
	AckWait time.Duration
	// Previous names the lane's queue in an earlier version, if any: a new lane starts
	// where it stopped, and deletes it.
	Previous string
}

// How a lane waits for its next message: a pull request that the server itself ends
// after pullExpiry (so none is left waiting for ever on a server that forgot it), with
// an idle heartbeat every pullHeartbeat (two missed: the request is taken for lost,
// e.g. its consumer's leader stopped, and the lane asks again, at another server).
// A lane's other requests (its consumer's state, its recreation) wait at most apiWait:
// one sent while the consumer has no leader (being elected) gets no answer at all.
const (
	pullExpiry    = 10 * time.Second
	pullHeartbeat = time.Second
	apiWait       = 2 * time.Second
)

// laneReader keeps a lane's reads gapless. JetStream numbers each delivery of a
// consumer (its consumer sequence, one more for every message handed out, redeliveries
// included). A delivery can go to a pull request this client no longer reads: one cut
// by a missed heartbeat or a deadline, or left on a server that stopped. The consumer
// counts such a message as handed out and unacknowledged, and hands out those after
// it; acknowledging one of them would acknowledge the lost one (a lane acknowledges
// cumulatively), and a later redelivery would put it after its successors. So a lane
// hands out only the delivery that follows the last one it saw; on a gap, or after a
// fetch that ended in a way that may have lost one, it asks the consumer how many it
// delivered and, if one is unaccounted for, recreates it from its acknowledgement floor
// (as after a crash): the lost message comes again, first.
type laneReader struct {
	b    *Bus
	l    Lane
	seen uint64 // the consumer sequence of the last delivery handed out
	// check: a delivery may have gone astray since; the consumer is asked before the
	// next fetch.
	check bool
	// resume is where a consumer being recreated starts (0: none pending): kept in
	// case it was deleted and its creation failed.
	resume uint64
}

// Lane opens the queue l describes, ready to hand out its messages in order: created if
// new, or recreated from its acknowledgement floor when it holds messages handed out but
// never acknowledged (a crash), because JetStream would otherwise hand out newer
// messages before it redelivers those.
func (b *Bus) Lane(ctx context.Context, l Lane) (*Queue, error) {
	lr := &laneReader{b: b, l: l}
	c, err := lr.open(ctx)
	if err != nil {
		return nil, err
	}
	lr.seen = c.CachedInfo().Delivered.Consumer
	return &Queue{c: c, name: l.Name, lane: lr}, nil
}

// open finds, updates or (re)creates the lane's consumer.
func (lr *laneReader) open(ctx context.Context) (jetstream.Consumer, error) {
	b, l := lr.b, lr.l
	cfg := jetstream.ConsumerConfig{Durable: l.Name, FilterSubject: l.Subject, AckPolicy: jetstream.AckAllPolicy,
		MaxAckPending: l.MaxAckPending, AckWait: l.AckWait, MaxDeliver: -1}
	c, err := b.js.Consumer(ctx, l.Stream, l.Name)
	switch {
	case err == nil:
		info := c.CachedInfo()
		if info.NumAckPending == 0 {
			lr.resume = 0
			if info.Config.MaxAckPending == cfg.MaxAckPending && info.Config.AckWait == cfg.AckWait {
				return c, nil
			}
			up := info.Config
			up.MaxAckPending, up.AckWait = cfg.MaxAckPending, cfg.AckWait
			return b.js.UpdateConsumer(ctx, l.Stream, up)
		}
		lr.resume = info.AckFloor.Stream + 1
		if err := b.js.DeleteConsumer(ctx, l.Stream, l.Name); err != nil {
			return nil, err
		}
		b.log.Info("a lane resumes after its last acknowledged message", "consumer", l.Name, "from", lr.resume)
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		if lr.resume > 0 || l.Previous == "" {
			break
		}
		if oc, oerr := b.js.Consumer(ctx, l.Stream, l.Previous); oerr == nil {
			lr.resume = oc.CachedInfo().AckFloor.Stream + 1
			if err := b.js.DeleteConsumer(ctx, l.Stream, l.Previous); err != nil {
				return nil, err
			}
		}
	default:
		return nil, err
	}
	if lr.resume > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, lr.resume
	}
	c, err = b.js.CreateConsumer(ctx, l.Stream, cfg)
	if err != nil {
		return nil, err
	}
	lr.resume = 0
	return c, nil
}

// settle makes sure, before a fetch, that no delivery went astray since the last one
// the lane saw; when one did, the consumer is recreated from its acknowledgement floor.
func (q *Queue) settle(ctx context.Context) error {
	lr := q.lane
	if lr == nil || !lr.check {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, apiWait)
	defer cancel()
	info, err := q.c.Info(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return err
	}
	if err == nil && info.NumAckPending == 0 && info.Delivered.Consumer == lr.seen {
		lr.check = false
		return nil
	}
	if err == nil {
		lr.b.log.Info("a lane's delivery went astray: it resumes after its last acknowledged message",
			"consumer", lr.l.Name, "seen", lr.seen, "delivered", info.Delivered.Consumer, "unacknowledged", info.NumAckPending)
	}
	c, err := lr.open(ctx)
	if err != nil {
		return err
	}
	q.c, lr.seen, lr.check = c, c.CachedInfo().Delivered.Consumer, false
	return nil
}

// Next returns the lane's messages waiting, at most n, in stream order; when none are,
// it waits, until ctx ends, for the first and takes those that came with it. It may
// return none (a wait that expired, or a delivery gone astray: the next call recovers
// it). It hands out messages on the understanding that those it handed out before were
// acknowledged (AckSync): a lane holds one batch at a time. A queue of Pull is read
// with Fetch.
func (q *Queue) Next(ctx context.Context, n int) ([]*Received, error) {
	if q.lane == nil {
		return nil, errors.New("bus: Next reads a lane; " + q.name + " is not one")
	}
	if err := q.settle(ctx); err != nil {
		return nil, err
	}
	msgs, err := q.take(q.c.FetchNoWait(n))
	if len(msgs) > 0 || err != nil || q.lane.check {
		return msgs, err
	}
	wctx, cancel := context.WithTimeout(ctx, pullExpiry)
	defer cancel()
	dl, _ := wctx.Deadline()
	hb := min(pullHeartbeat, time.Until(dl)/4) // a caller's shorter deadline: a shorter wait
	if hb < time.Millisecond {
		return nil, ctx.Err()
	}
	msgs, err = q.take(q.c.Fetch(1, jetstream.FetchContext(wctx), jetstream.FetchHeartbeat(hb)))
	if len(msgs) == 0 {
		if err == nil && ctx.Err() == nil {
			q.lane.check = true // an idle wait: a cheap look that nothing went astray
		}
		return nil, err
	}
	if n > 1 && !q.lane.check {
		more, _ := q.take(q.c.FetchNoWait(n - 1))
		msgs = append(msgs, more...)
	}
	return msgs, nil
}

// take reads a lane's fetch: the deliveries that follow the last one seen without a
// gap. After a gap, or a fetch that ended other than by the server's answer (a missed
// heartbeat, a leader change, a deadline), the lane checks its consumer before its next
// fetch. Errors of a wait cut short are not reported; others are, unless some messages
// came.
func (q *Queue) take(b jetstream.MessageBatch, err error) ([]*Received, error) {
	lr := q.lane
	if err != nil {
		lr.check = true
		return nil, err
	}
	var out []*Received
	for m := range b.Messages() {
		if lr.check {
			continue // after a gap: drained, never handed out
		}
		md, err := m.Metadata()
		if err != nil || md.Sequence.Consumer != lr.seen+1 {
			lr.check = true
			continue
		}
		lr.seen++
		out = append(out, &Received{m: m})
	}
	err = b.Error()
	if err == nil {
		return out, nil
	}
	lr.check = true
	if len(out) > 0 || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return out, nil
	}
	return out, err
}
