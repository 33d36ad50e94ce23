package httpapi

import (
	"context"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// recent remembers the message ids each application sent for synchronous searches in the
// last 5 to 10 minutes (two generations of a set, the older dropped every 5 minutes, or
// sooner when the newer holds recentMax ids), so that a repeated message is refused
// rather than processed twice. It is kept in memory, per process: asynchronous calls,
// which change state and are answered later, are checked against the stored transactions
// instead. After a restart the set is filled again from the audit log, whose records of
// synchronous searches carry the message id (RememberRecent).
type recent struct {
	mu        sync.Mutex
	cur, prev map[string]struct{}
	rotated   time.Time
}

const (
	recentWindow = 5 * time.Minute
	recentMax    = 1 << 20
)

// UsedOnce is the memory of ids used once that the replicas of the hub on one database
// share (sqlstore.Claims): Claim records that id of scope was used at now and reports
// whether it is the first time within window.
type UsedOnce interface {
	Claim(ctx context.Context, scope, id string, now time.Time, window time.Duration) (first bool, err error)
}

// repeated reports whether client sent the message id id before: within the window in
// this process's memory, or, with replicas (Deps.Messages), in their shared memory,
// kept for twice the window.
func (s *Server) repeated(ctx context.Context, client, id string) (bool, error) {
	now := time.Now()
	if s.recent.seen(client+"\x00"+id, now) {
		return true, nil
	}
	if s.messages == nil {
		return false, nil
	}
	first, err := s.messages.Claim(ctx, "message:"+client, id, now, 2*recentWindow)
	if err != nil {
		return false, fault.Unavailablef(err, "the message id cannot be checked against the other replicas")
	}
	return !first, nil
}

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

// RememberRecent fills the set of recent synchronous messages from the audit log (the
// records of the last recentWindow, at most the last recentMax records), so that a
// message sent before a restart is still recognised when repeated after it. It returns
// how many it remembered.
func (s *Server) RememberRecent(ctx context.Context) (int, error) {
	if s.audit == nil {
		return 0, nil
	}
	n := 0
	now := time.Now()
	err := s.audit.Messages(ctx, now.Add(-recentWindow), recentMax, func(client, id string) {
		if id != "" && !s.recent.seen(client+"\x00"+id, now) {
			n++
		}
	})
	return n, err
}
