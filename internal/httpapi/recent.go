package httpapi

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// recent remembers the message ids each application sent for synchronous searches in the
// last 5 to 10 minutes (two generations of a set, the older dropped every 5 minutes, or
// sooner when the newer holds max ids), so that a repeated message is refused
// rather than processed twice. It is kept in memory, per process: asynchronous calls,
// which change state and are answered later, are checked against the stored transactions
// instead. After a restart the set is filled again from the audit log, whose records of
// synchronous searches carry the message id (RememberRecent).
//
// It keeps a 64-bit keyed hash of each application and id, not the strings: about 20
// bytes an id instead of 150 (at 5,000 exchanges a second, two generations held 2.2
// million ids: some 300 MB as strings, the swing a 15-minute soak saw, 45 MB so). The key
// is drawn at start, so no caller can make two ids collide; by chance, two of the ids of
// ten minutes collide with odds of 1 in 10^13 a message.
type recent struct {
	mu        sync.Mutex
	seed      maphash.Seed
	max       int // ids a generation holds at most; 0: recentMax
	cur, prev map[uint64]struct{}
	rotated   time.Time
}

const (
	recentWindow = 5 * time.Minute
	// recentMax is the default of Deps.RecentMessages: a generation's ids (5 minutes at
	// 3,500 messages a second); past it, a generation is shorter.
	recentMax = 1 << 20
)

// len returns how many ids the memory holds, both generations.
func (r *recent) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.cur) + len(r.prev)
}

func (r *recent) limit() int {
	if r.max > 0 {
		return r.max
	}
	return recentMax
}

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
func (r *recent) seen(s string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == nil || now.Sub(r.rotated) > recentWindow || len(r.cur) >= r.limit() {
		if r.cur == nil {
			r.seed = maphash.MakeSeed()
		}
		r.prev, r.cur, r.rotated = r.cur, make(map[uint64]struct{}, 1024), now
	}
	key := maphash.String(r.seed, s)
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
	err := s.audit.Messages(ctx, now.Add(-recentWindow), int64(s.recent.limit()), func(client, id string) {
		if id != "" && !s.recent.seen(client+"\x00"+id, now) {
			n++
		}
	})
	return n, err
}
