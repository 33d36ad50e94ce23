package lease_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/lease"
)

// confirmLocker grants a lease whose Confirm answers what held says.
type confirmLocker struct{ held atomic.Bool }

type confirmHeld struct{ l *confirmLocker }

func (l *confirmLocker) TryAcquire(context.Context, string) (lease.Held, bool, error) {
	return confirmHeld{l}, true, nil
}

func (confirmHeld) Lost() <-chan struct{} { return nil }
func (confirmHeld) Release()              {}
func (h confirmHeld) Confirm(context.Context) error {
	if !h.l.held.Load() {
		return lease.ErrLost
	}
	return nil
}

// TestConfirm: the work Run does asks, through its context, the lease it runs under;
// work under Local, or under no lease, is never refused.
func TestConfirm(t *testing.T) {
	if err := lease.Confirm(context.Background()); err != nil {
		t.Errorf("Confirm without a lease = %v; want nil", err)
	}
	l := &confirmLocker{}
	l.held.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	var got []error
	lease.Run(ctx, l, "x", slog.New(slog.DiscardHandler), func(wctx context.Context) {
		got = append(got, lease.Confirm(wctx))
		l.held.Store(false) // another replica took it meanwhile
		got = append(got, lease.Confirm(wctx))
		cancel()
	})
	if len(got) != 2 || got[0] != nil || !errors.Is(got[1], lease.ErrLost) {
		t.Errorf("Confirm while held, then after = %v; want [nil, lease lost]", got)
	}
	lctx, lcancel := context.WithCancel(context.Background())
	lease.Run(lctx, lease.Local{}, "x", slog.New(slog.DiscardHandler), func(wctx context.Context) {
		if err := lease.Confirm(wctx); err != nil {
			t.Errorf("Confirm under lease.Local = %v; want nil", err)
		}
		lcancel()
	})
}
