package httpapi

import (
	"sync"
	"time"
)

// recent remembers the message ids each application sent for synchronous searches in the
// last 5 to 10 minutes (two generations of a set, the older dropped every 5 minutes, or
// sooner when the newer holds recentMax ids), so that a repeated message is refused
// rather than processed twice. It is kept in memory, per process: asynchronous calls,
// which change state and are answered later, are checked against the stored transactions
// instead. A repeated synchronous search after a restart is answered again; it reads, and
// the audit log records it.
type recent struct {
	mu        sync.Mutex
	cur, prev map[string]struct{}
	rotated   time.Time
}

const (
	recentWindow = 5 * time.Minute
	recentMax    = 1 << 20
)

// seen reports whether key was seen in the window, and remembers it.
func (r *recent) seen(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == nil || now.Sub(r.rotated) > recentWindow || len(r.cur) >= recentMax {
		r.prev, r.cur, r.rotated = r.cur, make(map[string]struct{}, 1024), now
	}
	if _, ok := r.cur[key]; ok {
		return true
	}
	if _, ok := r.prev[key]; ok {
		return true
	}
	r.cur[key] = struct{}{}
	return false
}
