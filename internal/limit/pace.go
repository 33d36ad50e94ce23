package limit

import (
	"context"
	"time"
)

// A Pacer keeps a long piece of work (a search that reads thousands of records) to a
// share of one processor while other work is waiting: the work calls Pace between steps,
// and Pace sleeps as long as it takes for the time spent working to stay at most Share
// of the time elapsed. On a small machine a filter then leaves room, on its processor
// too, for the look-ups of other clients, whose latency would otherwise follow the
// filter's; alone, it runs at full speed.
type Pacer struct {
	Share float64       // of one processor, in (0, 1]; 1 or more: no pause
	Step  time.Duration // work between pauses, so that a pause is short; default 2 ms
	Busy  func() bool   // whether other work is under way; nil: always
	sleep func(ctx context.Context, d time.Duration)
	now   func() time.Time
	since time.Time // start of the current step
}

type pacerKey struct{}

// WithPacer returns ctx carrying a pacer of share that pauses while busy says other work
// is under way (nil: always): work done under it pauses as Pace says.
func WithPacer(ctx context.Context, share float64, busy func() bool) context.Context {
	if share <= 0 || share >= 1 {
		return ctx
	}
	return context.WithValue(ctx, pacerKey{}, &Pacer{Share: share, Busy: busy})
}

// Pace is called by long work between steps (one goroutine per context): when ctx
// carries a pacer and the step has run for at least its Step, it pauses for the time
// that brings the step's share of the processor down to the pacer's Share. Without a
// pacer it does nothing.
func Pace(ctx context.Context) {
	p, _ := ctx.Value(pacerKey{}).(*Pacer)
	if p != nil {
		p.pace(ctx)
	}
}

func (p *Pacer) pace(ctx context.Context) {
	now := time.Now
	if p.now != nil {
		now = p.now
	}
	t := now()
	if p.since.IsZero() {
		p.since = t
		return
	}
	step := p.Step
	if step <= 0 {
		step = 2 * time.Millisecond
	}
	worked := t.Sub(p.since)
	if worked < step {
		return
	}
	if p.Busy != nil && !p.Busy() {
		p.since = t // nobody is waiting: a new step, at full speed
		return
	}
	pause := time.Duration(float64(worked) * (1 - p.Share) / p.Share)
	sleep := p.sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	sleep(ctx, pause)
	p.since = now()
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
