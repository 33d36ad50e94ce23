// Package lease runs work that must happen in one replica of the hub at a time: the
// events relay, router and deliverers, the asynchronous worker. Several replicas on one
// database each call Run for the same name; one holds the lease and does the work, the
// others try again every second and take over when the holder's lease is lost (its
// process died, its connection to the database broke). The lease itself is the store's
// (PostgreSQL session advisory locks in internal/sqlstore); Local grants it always, for a
// store that only one process opens.
package lease

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Locker gives out leases by name.
type Locker interface {
	// TryAcquire takes the lease name if no one holds it; ok is false when another does.
	TryAcquire(ctx context.Context, name string) (h Held, ok bool, err error)
}

// Held is a lease taken.
type Held interface {
	// Lost is closed when the lease is no longer certain (its session ended or stopped
	// answering): the work must stop, another replica may take over.
	Lost() <-chan struct{}
	// Release gives the lease back.
	Release()
}

// Local is the Locker of a store that one process opens: the lease is always granted
// and never lost.
type Local struct{}

// TryAcquire implements Locker.
func (Local) TryAcquire(context.Context, string) (Held, bool, error) { return localHeld{}, true, nil }

type localHeld struct{}

func (localHeld) Lost() <-chan struct{} { return nil }
func (localHeld) Release()              {}

// Retry is how often a replica without the lease tries to take it, and how long it waits
// before running work that returned again.
const Retry = time.Second

// Run does work while it holds the lease name, until ctx ends: it takes the lease (trying
// every Retry), runs work with a context cancelled when the lease is lost, and when work
// returns gives the lease back and starts over. work must stop promptly when its context
// ends; Run returns after it has.
func Run(ctx context.Context, l Locker, name string, log *slog.Logger, work func(ctx context.Context)) {
	for ctx.Err() == nil {
		h, ok, err := l.TryAcquire(ctx, name)
		if err != nil && ctx.Err() == nil {
			log.Warn("take a lease", "lease", name, "err", err)
		}
		if ok {
			log.Info("lease taken", "lease", name)
			hold(ctx, h, work)
			h.Release()
			if ctx.Err() == nil {
				log.Warn("lease given up", "lease", name)
			}
		}
		t := time.NewTimer(Retry)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}

// Confirmer is a Held lease that can ask the store, now, whether it still holds it.
type Confirmer interface {
	// Confirm returns nil when the lease is held at this moment, else an error (and the
	// lease is then lost: Lost is closed).
	Confirm(ctx context.Context) error
}

// ErrLost is Confirm's answer for a lease no longer held.
var ErrLost = errors.New("lease: lost")

type heldKey struct{}

// Confirm asks the store whether the lease under which ctx's work runs (Run's work) is
// still held, just before the work writes what must come from the holder alone (an
// acknowledgement that covers messages a next holder would otherwise be handed): a
// holder cut off from the store, or paused, learns it lost the lease here rather than at
// its next ping. It returns nil for work under a lease that cannot be asked (Local) or
// under none. A lease may still be lost just after it is confirmed: Confirm narrows the
// window to a round trip, it does not close it.
func Confirm(ctx context.Context) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	c, ok := ctx.Value(heldKey{}).(Confirmer)
	if !ok {
		return nil
	}
	return c.Confirm(ctx)
}

// hold runs work until it returns, cancelling its context when h is lost or ctx ends.
func hold(ctx context.Context, h Held, work func(ctx context.Context)) {
	wctx, cancel := context.WithCancel(context.WithValue(ctx, heldKey{}, h))
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		work(wctx)
	}()
	select {
	case <-done:
		return
	case <-h.Lost():
		cancel()
	case <-ctx.Done():
	}
	<-done
}
