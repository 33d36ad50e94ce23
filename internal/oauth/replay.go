package oauth

import (
	"context"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// maxReplayEntries bounds the jti cache. Assertions live at most five minutes, so this
// allows a sustained 300 assertions per second across all clients.
const maxReplayEntries = 100_000

// replayCache remembers the jti of every accepted client assertion until the assertion
// expires, after which it could not be replayed anyway. It is in memory; with several
// hub replicas behind a load balancer the jti is also claimed where they all see it
// (Config.UsedOnce, spent).
type replayCache struct {
	mu   sync.Mutex
	max  int
	seen map[replayKey]time.Time // → exp
}

type replayKey struct{ client, jti string }

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, seen: make(map[replayKey]time.Time)}
}

// UsedOnce is the memory of ids used once that the replicas of the hub share
// (sqlstore.Claims): Claim records that id of scope was used at now and reports whether
// it is the first time within window.
type UsedOnce interface {
	Claim(ctx context.Context, scope, id string, now time.Time, window time.Duration) (first bool, err error)
}

// spent records the jti of client's assertion as used, in this process's memory and in
// the replicas' (Config.UsedOnce), refusing one already used in either.
func (s *Server) spent(ctx context.Context, client, jti string, exp, now time.Time) error {
	if err := s.replay.use(client, jti, exp, now); err != nil {
		return err
	}
	if s.usedOnce == nil {
		return nil
	}
	// An assertion lives at most maxAssertionLife from its iat, at most clockSkew ahead.
	first, err := s.usedOnce.Claim(ctx, "assertion:"+client, jti, now, maxAssertionLife+clockSkew)
	if err != nil {
		return oauthErr(fault.Unavailable, CodeTemporarilyUnavailable, "", err, "the client assertion cannot be checked; retry shortly")
	}
	if !first {
		return badClient(nil, "client assertion already used (jti replayed)")
	}
	return nil
}

// use records jti for client, refusing one already recorded. When the cache is full of
// live entries it refuses new assertions rather than forget one that could be replayed.
func (c *replayCache) use(client, jti string, exp, now time.Time) error {
	k := replayKey{client, jti}
	c.mu.Lock()
	defer c.mu.Unlock()
	if until, ok := c.seen[k]; ok && now.Before(until) {
		return badClient(nil, "client assertion already used (jti replayed)")
	}
	if len(c.seen) >= c.max {
		for k, until := range c.seen {
			if !now.Before(until) {
				delete(c.seen, k)
			}
		}
		if len(c.seen) >= c.max {
			return oauthErr(fault.Unavailable, CodeTemporarilyUnavailable, "", nil,
				"too many client assertions in the last minutes; retry shortly")
		}
	}
	c.seen[k] = exp
	return nil
}
