package limit

import (
	"context"
	"testing"
	"time"
)

func TestPacer(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var slept []time.Duration
	p := &Pacer{Share: 0.25, Step: 2 * time.Millisecond, now: func() time.Time { return clock },
		sleep: func(_ context.Context, d time.Duration) { slept = append(slept, d); clock = clock.Add(d) }}
	ctx := context.Background()
	p.pace(ctx) // starts the first step
	for _, work := range []time.Duration{time.Millisecond, time.Millisecond, 4 * time.Millisecond} {
		clock = clock.Add(work)
		p.pace(ctx)
	}
	// 2 ms of work, then 4: at a quarter share, three times as long asleep each time.
	want := []time.Duration{6 * time.Millisecond, 12 * time.Millisecond}
	if len(slept) != len(want) || slept[0] != want[0] || slept[1] != want[1] {
		t.Errorf("pauses %v; want %v", slept, want)
	}
	if Pace(ctx); ctx.Value(pacerKey{}) != nil {
		t.Errorf("a context without a pacer carries one")
	}
	if c := WithPacer(ctx, 1, nil); c.Value(pacerKey{}) != nil {
		t.Errorf("a share of 1 makes a pacer")
	}
	// With nothing else under way, no pause.
	slept = nil
	busy := false
	p.Busy = func() bool { return busy }
	clock = clock.Add(5 * time.Millisecond)
	p.pace(ctx)
	busy = true
	clock = clock.Add(2 * time.Millisecond)
	p.pace(ctx)
	if len(slept) != 1 || slept[0] != 6*time.Millisecond {
		t.Errorf("pauses %v with others under way only in the second step; want [6ms]", slept)
	}
}
