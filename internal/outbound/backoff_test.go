package outbound_test

import (
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/outbound"
)

func TestBackoffDoublesUpToMax(t *testing.T) {
	none := func(int64) int64 { return 0 }
	b := outbound.Backoff{First: time.Second, Max: 12 * time.Second, Jitter: 0.25, Rand: none}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 12 * time.Second, 12 * time.Second}
	for i, w := range want {
		if got := b.Delay(i + 1); got != w {
			t.Errorf("Delay(%d) = %v; want %v", i+1, got, w)
		}
	}
	for _, n := range []int{0, 64, 1 << 30} { // no overflow, however many failures
		if got := b.Delay(n); got < time.Second || got > 12*time.Second {
			t.Errorf("Delay(%d) = %v; want from 1 s to 12 s", n, got)
		}
	}
}

// TestBackoffJitter: the random part is drawn below a quarter of the wait, and added.
func TestBackoffJitter(t *testing.T) {
	var asked []int64
	most := func(n int64) int64 { asked = append(asked, n); return n - 1 }
	b := outbound.Backoff{First: time.Second, Max: 12 * time.Second, Jitter: 0.25, Rand: most}
	if got, want := b.Delay(1), time.Second+250*time.Millisecond-1; got != want {
		t.Errorf("Delay(1) with the largest draw = %v; want %v", got, want)
	}
	if got, want := b.Delay(9), 15*time.Second-1; got != want {
		t.Errorf("Delay(9) with the largest draw = %v; want %v", got, want)
	}
	if len(asked) != 2 || asked[0] != int64(250*time.Millisecond) || asked[1] != int64(3*time.Second) {
		t.Errorf("draws asked below %v; want below 250ms and 3s", asked)
	}
	// With the real generator: within the bounds, and not all alike.
	b.Rand = nil
	seen := map[time.Duration]bool{}
	for range 50 {
		d := b.Delay(3)
		if d < 4*time.Second || d >= 5*time.Second {
			t.Fatalf("Delay(3) = %v; want in [4 s, 5 s)", d)
		}
		seen[d] = true
	}
	if len(seen) < 2 {
		t.Errorf("50 draws of Delay(3) gave %d distinct waits; want jitter", len(seen))
	}
	if got := (outbound.Backoff{First: time.Second, Max: time.Minute}).Delay(2); got != 2*time.Second {
		t.Errorf("Delay(2) without jitter = %v; want 2s", got)
	}
}
