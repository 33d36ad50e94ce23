package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Stream describes a stream: the subjects whose messages it keeps, on disk.
type Stream struct {
	Name     string
	Subjects []string // e.g. "deliveries.>"
	// Duplicates is how long a message's id is remembered: a message published again
	// with the same id within it is dropped, so a publisher may repeat itself after a
	// crash.
	Duplicates time.Duration
	// MaxAge is how long a message is kept, read or not; 0: until purged.
	MaxAge time.Duration
}

// Stream creates the stream, or updates it to s.
func (b *Bus) Stream(ctx context.Context, s Stream) error {
	err := setup(ctx, func(ctx context.Context) error {
		_, err := b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: s.Name, Subjects: s.Subjects,
			Storage: jetstream.FileStorage, Duplicates: s.Duplicates, MaxAge: s.MaxAge, Replicas: b.replicas})
		return err
	})
	if err != nil {
		return fmt.Errorf("bus: stream %s: %w", s.Name, err)
	}
	return nil
}

// Msg is a message to publish.
type Msg struct {
	Subject string
	Data    []byte
	// ID is the message's idempotency key: the stream drops a message whose id it has
	// seen within its duplicate window. "": none.
	ID     string
	Header map[string]string
	// Order names what the message keeps its place among (a person, say): PublishAll
	// never has two messages of one Order in flight at once, so that one lost while a
	// stream's leader changes is not overtaken by a later one of the same Order. "": any.
	Order string
}

func (m Msg) nats() (*nats.Msg, []jetstream.PublishOpt) {
	out := &nats.Msg{Subject: m.Subject, Data: m.Data}
	if len(m.Header) > 0 {
		out.Header = nats.Header{}
		for k, v := range m.Header {
			out.Header.Set(k, v)
		}
	}
	var opts []jetstream.PublishOpt
	if m.ID != "" {
		opts = append(opts, jetstream.WithMsgID(m.ID))
	}
	return out, opts
}

// Publish publishes m and waits until a stream has stored it; it returns its sequence
// in the stream (that of the first copy when the stream dropped m as a repeat).
func (b *Bus) Publish(ctx context.Context, m Msg) (uint64, error) {
	msg, opts := m.nats()
	ack, err := b.js.PublishMsg(ctx, msg, opts...)
	if err != nil {
		return 0, err
	}
	return ack.Sequence, nil
}

// PublishAll publishes msgs in order without waiting for each to be stored before
// sending the next (one round trip for many, not one a message), then waits for them; it
// returns how many, from the first, were stored, and why not the rest. Publishing them
// again from there is safe when they have ids.
//
// Messages sent together may be stored out of order when one is lost on its way (a
// stream leader that stopped) and a later one, sent after, reaches the new leader: the
// lost one, published again, comes after it. So msgs go in windows in which no Order
// appears twice, each window stored before the next is sent: of two messages of one
// Order, the second is sent only once the first is stored, and stays after it.
func (b *Bus) PublishAll(ctx context.Context, msgs []Msg) (int, error) {
	stored := 0
	for stored < len(msgs) {
		end := windowEnd(msgs, stored)
		n, err := b.publishWindow(ctx, msgs[stored:end])
		stored += n
		if err != nil {
			return stored, err
		}
	}
	return stored, nil
}

// windowEnd is the end of the window of msgs that starts at from: before the first
// message whose Order is already in it.
func windowEnd(msgs []Msg, from int) int {
	seen := map[string]bool{}
	for i := from; i < len(msgs); i++ {
		if o := msgs[i].Order; o != "" {
			if seen[o] {
				return i
			}
			seen[o] = true
		}
	}
	return len(msgs)
}

// publishWindow publishes msgs without waiting between them, then waits for them.
func (b *Bus) publishWindow(ctx context.Context, msgs []Msg) (int, error) {
	acks := make([]jetstream.PubAckFuture, 0, len(msgs))
	var failed error
	for _, m := range msgs {
		msg, opts := m.nats()
		f, err := b.js.PublishMsgAsync(msg, opts...)
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

// Stored is a message as a stream keeps it.
type Stored struct {
	Seq     uint64 // its sequence in the stream
	Subject string
	Data    []byte
	Header  map[string]string
	Time    time.Time // when the stream stored it
}

// Last returns the last message of the stream on subject (wildcards allowed), or
// ErrNotFound.
func (b *Bus) Last(ctx context.Context, stream, subject string) (Stored, error) {
	s, err := b.js.Stream(ctx, stream)
	if err != nil {
		return Stored{}, err
	}
	m, err := s.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Stored{}, ErrNotFound
	}
	if err != nil {
		return Stored{}, err
	}
	out := Stored{Seq: m.Sequence, Subject: m.Subject, Data: m.Data, Time: m.Time, Header: map[string]string{}}
	for k := range m.Header {
		out.Header[k] = m.Header.Get(k)
	}
	return out, nil
}

// Read returns the stream's messages on subject (wildcards allowed), oldest first, at
// most limit, waiting at most wait for them; it may return fewer than the stream holds,
// and leaves them all in place.
func (b *Bus) Read(ctx context.Context, stream, subject string, limit int, wait time.Duration) ([]Stored, error) {
	c, err := b.js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		return nil, err
	}
	out := []Stored{}
	info, err := c.Info(ctx)
	if err != nil || info.NumPending == 0 || limit <= 0 {
		return out, err
	}
	batch, err := c.Fetch(min(limit, int(info.NumPending)), jetstream.FetchMaxWait(wait))
	if err != nil {
		return nil, err
	}
	for m := range batch.Messages() {
		md, err := m.Metadata()
		if err != nil {
			return nil, err
		}
		out = append(out, Stored{Seq: md.Sequence.Stream, Subject: m.Subject(), Data: m.Data(), Time: md.Timestamp})
	}
	return out, batch.Error()
}

// Purge deletes the stream's messages on subject ("": every subject) whose sequence is
// at most through (0: all of them). A message stored after the last one a reader saw
// has a higher sequence: purging through what was read never deletes it.
func (b *Bus) Purge(ctx context.Context, stream, subject string, through uint64) error {
	s, err := b.js.Stream(ctx, stream)
	if err != nil {
		return err
	}
	var opts []jetstream.StreamPurgeOpt
	if subject != "" {
		opts = append(opts, jetstream.WithPurgeSubject(subject))
	}
	if through > 0 {
		opts = append(opts, jetstream.WithPurgeSequence(through+1)) // up to, not including
	}
	return s.Purge(ctx, opts...)
}
