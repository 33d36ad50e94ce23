package bus

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestSetupAsksAgainWhileNoAnswer(t *testing.T) {
	calls := 0
	err := setup(context.Background(), func(ctx context.Context) error {
		calls++
		if _, ok := ctx.Deadline(); !ok {
			t.Error("an attempt without a bound of its own")
		}
		switch calls {
		case 1:
			return context.DeadlineExceeded
		case 2:
			return nats.ErrNoResponders
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("setup: %v after %d calls; want nil after 3", err, calls)
	}
}

func TestSetupReturnsOtherErrorsAtOnce(t *testing.T) {
	bad := errors.New("stream name already in use with a different configuration")
	calls := 0
	if err := setup(context.Background(), func(context.Context) error { calls++; return bad }); !errors.Is(err, bad) || calls != 1 {
		t.Fatalf("setup: %v after %d calls; want the error after 1", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	start := time.Now()
	err := setup(ctx, func(context.Context) error { calls++; cancel(); return context.DeadlineExceeded })
	if err == nil || calls != 1 || time.Since(start) > time.Second {
		t.Fatalf("setup with its caller's context ended: %v after %d calls in %v; want the error at once", err, calls, time.Since(start))
	}
}
