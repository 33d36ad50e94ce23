package bus

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// setupFor bounds how long setup asks again; setupTry is each attempt's own bound (the
// client library's default for an API call when the context has none).
const (
	setupFor = 30 * time.Second
	setupTry = 5 * time.Second
)

// setup runs an idempotent JetStream API call (creating or updating a stream, a bucket,
// a consumer) and asks again while the cluster cannot answer yet: the call timed out at
// its own bound, or no server answered (a stream or its meta leader being elected, as
// when several replicas start at once on a cluster that is itself starting). Other
// errors, and the caller's own context ending, are returned at once.
func setup(ctx context.Context, call func(context.Context) error) error {
	deadline, wait := time.Now().Add(setupFor), 100*time.Millisecond
	for {
		try, cancel := context.WithTimeout(ctx, setupTry)
		err := call(try)
		cancel()
		if err == nil || ctx.Err() != nil || !transient(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// transient reports whether a JetStream API call failed for want of an answer.
func transient(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabled)
}
