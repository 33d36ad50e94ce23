package events

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crossroads-hub/crossroads/internal/metrics"
)

// tailRecent is how many past outcomes a tail begins with, so that one started just
// after a change still shows what became of it.
const tailRecent = 100

// outcome is one line of the events tail.
type outcome struct {
	Time         string `json:"time"`
	State        string `json:"state"` // routed, withheld, delivered, failed, dead
	Key          string `json:"key,omitempty"`
	Subscription string `json:"subscription,omitempty"`
	Institution  string `json:"institution,omitempty"`
	Type         string `json:"type,omitempty"`
	Seq          int64  `json:"seq,omitempty"`
	Attempt      uint64 `json:"attempt,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// statusBucket keeps the last outcome of each copy (the bus's DELIVERY_STATUS).
type statusBucket interface {
	PutNoWait(key string, value []byte) error
}

// outcomes counts what became of changes and copies, and tells the metric, the status
// bucket and the tails.
type outcomes struct {
	// Counted since start, as the outcomes of the tail and the metric count them: changes
	// routed, and of their copies those routed, withheld, delivered and failed attempts.
	changes, routed, withheld, delivered, failed atomic.Int64

	metrics *metrics.CounterVec // crossroads_mutation_outcomes_total{state}
	status  statusBucket        // nil: not kept
	log     *slog.Logger

	mu     sync.Mutex
	feed   map[chan []byte]struct{} // tails: every outcome, as a JSON line
	recent [][]byte                 // the last tailRecent outcomes, oldest first
}

func newOutcomes(reg *metrics.Registry, status statusBucket, log *slog.Logger) *outcomes {
	if reg == nil {
		reg = metrics.NewRegistry()
	}
	return &outcomes{status: status, log: log, feed: map[chan []byte]struct{}{},
		metrics: reg.Counter("crossroads_mutation_outcomes_total", "Mutations routed and copies withheld, delivered or failed (one per attempt).", "state")}
}

// publish counts an outcome and sends it to the tails, dropping it for a tail that is
// behind (a tail is for watching, not for auditing: the audit log has the decisions).
func (o *outcomes) publish(oc outcome) {
	o.metrics.WithLabelValues(oc.State).Inc()
	oc.Time = time.Now().UTC().Format(time.RFC3339Nano)
	b, _ := json.Marshal(oc)
	b = slices.Clip(b) // shared by the tails, which append to it
	if oc.Key != "" {
		o.recordStatus(oc.Key, b)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.recent) == tailRecent {
		o.recent = append(o.recent[:0], o.recent[1:]...)
	}
	o.recent = append(o.recent, b)
	for ch := range o.feed {
		select {
		case ch <- b:
		default:
		}
	}
}

// statusKey is a copy's key in the status bucket, whose keys allow no ':'.
func statusKey(key string) string {
	return statusKeys.Replace(key)
}

var statusKeys = strings.NewReplacer(":", "_", "/", ".", "#", "_")

// recordStatus keeps the last outcome of a copy. It does not wait for the bus's
// acknowledgement: the status is for operators, and the copy's own state is in the
// delivery stream.
func (o *outcomes) recordStatus(key string, line []byte) {
	if o.status == nil {
		return
	}
	if err := o.status.PutNoWait(statusKey(key), line); err != nil {
		o.log.Warn("record a delivery status", "key", key, "err", err)
	}
}

// tail returns the last outcomes (up to tailRecent), then those from now on, until ctx
// ends.
func (o *outcomes) tail(ctx context.Context) <-chan []byte {
	ch := make(chan []byte, 1024+tailRecent)
	o.mu.Lock()
	for _, b := range o.recent {
		ch <- b
	}
	o.feed[ch] = struct{}{}
	o.mu.Unlock()
	go func() {
		<-ctx.Done()
		o.mu.Lock()
		delete(o.feed, ch)
		o.mu.Unlock()
		close(ch)
	}()
	return ch
}

// Tail returns the last outcomes (up to 100), then those from now on, as JSON lines,
// until ctx ends.
func (p *Pipeline) Tail(ctx context.Context) <-chan []byte { return p.out.tail(ctx) }
