package lease_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/lease"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// memLocker is one lease shared by the replicas of a test; lose ends the holder's.
type memLocker struct {
	mu     sync.Mutex
	holder *memHeld
}

type memHeld struct {
	l    *memLocker
	lost chan struct{}
	once sync.Once
}

func (l *memLocker) TryAcquire(context.Context, string) (lease.Held, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder != nil {
		return nil, false, nil
	}
	l.holder = &memHeld{l: l, lost: make(chan struct{})}
	return l.holder, true, nil
}

// lose makes the holder's lease lost; it is free again once the holder releases it (as
// when the holder's connection breaks and it closes it), so a replica that works only
// while it holds the lease never overlaps another.
func (l *memLocker) lose() {
	l.mu.Lock()
	h := l.holder
	l.mu.Unlock()
	if h != nil {
		h.once.Do(func() { close(h.lost) })
	}
}

func (h *memHeld) Lost() <-chan struct{} { return h.lost }
func (h *memHeld) Release() {
	h.l.mu.Lock()
	if h.l.holder == h {
		h.l.holder = nil
	}
	h.l.mu.Unlock()
}

// TestRunOneAtATime runs two replicas of one piece of work: only one works at a time;
// when its lease is lost its work stops and a replica takes over; when the working
// replica stops, the other takes over.
func TestRunOneAtATime(t *testing.T) {
	l := &memLocker{}
	var working, most, runs, current atomic.Int32
	work := func(i int32) func(ctx context.Context) {
		return func(ctx context.Context) {
			n := working.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			current.Store(i)
			runs.Add(1)
			<-ctx.Done()
			working.Add(-1)
		}
	}
	log := slog.New(slog.DiscardHandler)
	var cancels [2]context.CancelFunc
	var wg sync.WaitGroup
	for i := range int32(2) {
		ctx, cancel := context.WithCancel(context.Background())
		cancels[i] = cancel
		wg.Add(1)
		go func() { defer wg.Done(); lease.Run(ctx, l, "relay", log, work(i)) }()
	}
	defer func() {
		for _, c := range cancels {
			c()
		}
		wg.Wait()
	}()
	testwait.For(t, 10*time.Second, testwait.True("one replica working", func() bool { return runs.Load() == 1 && working.Load() == 1 }))
	l.lose()
	testwait.For(t, 10*time.Second, testwait.True("a replica working again after the lease was lost", func() bool { return runs.Load() == 2 && working.Load() == 1 }))
	stopped := current.Load()
	cancels[stopped]()
	testwait.For(t, 10*time.Second, testwait.True("the other replica working after the first stopped", func() bool {
		return runs.Load() == 3 && working.Load() == 1 && current.Load() != stopped
	}))
	if most.Load() != 1 {
		t.Errorf("at most %d replicas worked at once; want 1", most.Load())
	}
}
