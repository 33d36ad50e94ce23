package oauth

import (
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// maxReplayEntries bounds the jti cache. Assertions live at most five minutes, so this
// allows a sustained 300 assertions per second across all clients.
const maxReplayEntries = 100_000

// replayCache remembers the jti of every accepted client assertion until the assertion
// expires, after which it could not be replayed anyway. It is in memory: with several
// hub replicas behind a load balancer an assertion could be replayed once per replica,
// so the cache must then move to the shared store (an insert into a table with a unique
// key on client and jti, purged by exp).
type replayCache struct {
	mu   sync.Mutex
	max  int
	seen map[replayKey]time.Time // → exp
}

type replayKey struct{ client, jti string }

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, seen: make(map[replayKey]time.Time)}
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
