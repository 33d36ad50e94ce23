package metrics

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Sum adds the series of the counter family name whose label values keep accepts (nil:
// all); 0 when there is no such counter.
func (r *Registry) Sum(name string, keep func(values []string) bool) uint64 {
	r.mu.Lock()
	var c *CounterVec
	for _, f := range r.families {
		if cv, ok := f.(*CounterVec); ok && cv.v.name == name {
			c = cv
		}
	}
	r.mu.Unlock()
	if c == nil {
		return 0
	}
	var n uint64
	c.v.mu.RLock()
	defer c.v.mu.RUnlock()
	for k, s := range c.v.series {
		if keep == nil || keep(strings.Split(k, "\xff")) {
			n += s.Value()
		}
	}
	return n
}

// Sample is the hub's HTTP counters at an instant: requests answered, those refused
// (4xx) and those failed (5xx), since the start.
type Sample struct {
	At                        time.Time
	Requests, Refused, Failed uint64
}

// HTTPSample reads a Sample from the counter crossroads_http_requests_total (labels
// route, status).
func (r *Registry) HTTPSample(at time.Time) Sample {
	const name = "crossroads_http_requests_total"
	class := func(c byte) func([]string) bool {
		return func(v []string) bool { return len(v) == 2 && len(v[1]) == 3 && v[1][0] == c }
	}
	return Sample{At: at, Requests: r.Sum(name, nil), Refused: r.Sum(name, class('4')), Failed: r.Sum(name, class('5'))}
}

// Ring keeps the latest samples, a fixed number, for the operators' console's charts.
type Ring struct {
	mu   sync.Mutex
	buf  []Sample
	next int
	full bool
}

// NewRing returns a ring of size samples (at least 2).
func NewRing(size int) *Ring { return &Ring{buf: make([]Sample, max(size, 2))} }

// Add keeps s, forgetting the oldest when full.
func (r *Ring) Add(s Sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf[r.next] = s
	r.next = (r.next + 1) % len(r.buf)
	r.full = r.full || r.next == 0
}

// Samples returns the samples kept, oldest first.
func (r *Ring) Samples() []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return append([]Sample(nil), r.buf[:r.next]...)
	}
	return append(append([]Sample(nil), r.buf[r.next:]...), r.buf[:r.next]...)
}

// Run adds read's sample every interval until ctx ends (its caller owns it and waits).
func (r *Ring) Run(ctx context.Context, every time.Duration, read func() Sample) {
	r.Add(read())
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.Add(read())
		}
	}
}
