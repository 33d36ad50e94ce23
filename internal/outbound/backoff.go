package outbound

import (
	"math/rand/v2"
	"time"
)

// Backoff is how long to wait before trying again: First after the first failure,
// doubled after each one up to Max, plus a random part of up to Jitter of it (0.25: up
// to a quarter more), so that senders that failed together do not try again together.
type Backoff struct {
	First, Max time.Duration
	Jitter     float64
	Rand       func(n int64) int64 // a number in [0, n); nil: math/rand/v2
}

// Delay is the wait after failures failed attempts (1 or more).
func (b Backoff) Delay(failures int) time.Duration {
	d := b.First
	for i := 1; i < failures && d > 0 && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	if j := int64(float64(d) * b.Jitter); j > 0 {
		draw := b.Rand
		if draw == nil {
			draw = rand.Int64N
		}
		d += time.Duration(draw(j))
	}
	return d
}
