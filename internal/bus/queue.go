package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Queue is a durable reader of a stream's messages on a subject (a JetStream consumer):
// it hands them out and remembers, across restarts, which were acknowledged.
type Queue struct {
	c    jetstream.Consumer
	name string
	lane *laneReader // a lane's: how its reads stay gapless (lane.go); nil for Pull's queues
}

// Pull opens, creating it if new, a queue whose messages are acknowledged one by one,
// each handed out again when not acknowledged within ackWait.
func (b *Bus) Pull(ctx context.Context, stream, name, subject string, ackWait time.Duration) (*Queue, error) {
	c, err := b.js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{Durable: name, FilterSubject: subject,
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: ackWait, MaxDeliver: -1})
	if err != nil {
		return nil, err
	}
	return &Queue{c: c, name: name}, nil
}

// ackPrefix begins the subject of every JetStream acknowledgement.
const ackPrefix = "$JS.ACK."

// AckHandle acknowledges the hand-out named by handle (Received.Handle), taken by this
// process or another, and waits for the bus to confirm; a message already
// acknowledged is no error. It refuses a handle that names no JetStream hand-out.
func (b *Bus) AckHandle(ctx context.Context, handle string) error {
	if !strings.HasPrefix(handle, ackPrefix) || strings.ContainsAny(handle, " \t\r\n*>") {
		return fmt.Errorf("bus: %.80q is not the handle of a message handed out", handle)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	_, err := b.conn.RequestWithContext(ctx, handle, []byte("+ACK"))
	if err != nil {
		return fmt.Errorf("bus: acknowledge: %w", err)
	}
	return nil
}

// QueueState is a queue's backlog.
type QueueState struct {
	Pending     uint64 // not yet handed out
	AckPending  int    // handed out, not yet acknowledged
	Redelivered int    // handed out more than once, not yet acknowledged
}

// QueueState reads the backlog of the stream's queue name, or ErrNotFound.
func (b *Bus) QueueState(ctx context.Context, stream, name string) (QueueState, error) {
	c, err := b.js.Consumer(ctx, stream, name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return QueueState{}, ErrNotFound
	}
	if err != nil {
		return QueueState{}, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return QueueState{}, err
	}
	return QueueState{Pending: info.NumPending, AckPending: info.NumAckPending, Redelivered: info.NumRedelivered}, nil
}

// Name is the queue's name.
func (q *Queue) Name() string { return q.name }

// Fetch returns up to n messages, waiting at most wait for them, or until ctx ends
// (none then, and no error: a long poll cut short). An error that ends the fetch after
// some came is not reported: those are returned.
func (q *Queue) Fetch(ctx context.Context, n int, wait time.Duration) ([]*Received, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		msgs, err := collect(q.c.Fetch(n, jetstream.FetchContext(ctx)))
		if len(msgs) > 0 {
			return msgs, nil
		}
		// No server answers for the queue yet: in a cluster, a queue just made (by
		// another process too) or whose leader stopped has none until one is elected.
		if !errors.Is(err, nats.ErrNoResponders) {
			return msgs, err
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil
		case <-t.C:
		}
	}
}

func collect(b jetstream.MessageBatch, err error) ([]*Received, error) {
	if err != nil {
		return nil, err
	}
	var out []*Received
	for m := range b.Messages() {
		out = append(out, &Received{m: m})
	}
	if err := b.Error(); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) {
		return out, err
	}
	return out, nil
}

// Received is a message a queue handed out.
type Received struct {
	m jetstream.Msg
}

// Data is the message's body.
func (r *Received) Data() []byte { return r.m.Data() }

// Meta is where a message stands in its stream and queue.
type Meta struct {
	Seq       uint64    // its sequence in the stream
	Stored    time.Time // when the stream stored it
	Delivered uint64    // how many times the queue handed it out, this time included
}

// Meta reads the message's place in its stream and queue.
func (r *Received) Meta() (Meta, error) {
	md, err := r.m.Metadata()
	if err != nil {
		return Meta{}, err
	}
	return Meta{Seq: md.Sequence.Stream, Stored: md.Timestamp, Delivered: md.NumDelivered}, nil
}

// Ack acknowledges the message (in a lane, those before it too) without waiting for
// the bus to confirm.
func (r *Received) Ack() error { return r.m.Ack() }

// AckSync acknowledges the message and waits for the bus to confirm; a message already
// acknowledged is no error.
func (r *Received) AckSync(ctx context.Context) error {
	err := r.m.DoubleAck(ctx)
	if errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
		return nil
	}
	return err
}

// Handle names this hand-out of the message, so that any connection to the bus, of
// this process or another, may acknowledge it (Bus.AckHandle): a hand-out is
// remembered by the bus, not by the process that took it.
func (r *Received) Handle() string { return r.m.Reply() }

// Nak tells the bus to hand the message out again now.
func (r *Received) Nak() error { return r.m.Nak() }

// InProgress tells the bus the message is still being worked on: it is not handed out
// again for another AckWait.
func (r *Received) InProgress() error { return r.m.InProgress() }

// Term tells the bus never to hand the message out again.
func (r *Received) Term() error { return r.m.Term() }
