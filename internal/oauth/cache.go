package oauth

import (
	"context"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// maxTokenEntries bounds the verified-token cache (about 300 bytes an entry).
const maxTokenEntries = 100_000

// tokenEntry is what the full check of a token established.
type tokenEntry struct {
	kid    string
	claims Claims
}

// tokenCache remembers verified tokens by their SHA-256 until they expire. When full it
// drops the expired entries, and if that is not enough, all of them: a dropped entry only
// costs one more signature check.
type tokenCache struct {
	mu  sync.RWMutex
	max int
	m   map[[32]byte]tokenEntry
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, m: make(map[[32]byte]tokenEntry)}
}

func (c *tokenCache) get(sum [32]byte) (tokenEntry, bool) {
	c.mu.RLock()
	e, ok := c.m[sum]
	c.mu.RUnlock()
	return e, ok
}

func (c *tokenCache) put(sum [32]byte, e tokenEntry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, old := range c.m {
			if !now.Before(old.claims.Expires) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.max {
			clear(c.m)
		}
	}
	c.m[sum] = e
}

// statusCache remembers application statuses for ttl, so that Verify reads the store
// once per application every few seconds rather than on every request. The price is that
// a suspension takes up to ttl to take effect, on each replica. Only applications named
// by a validly signed token enter it, so its size is bounded by the directory's.
type statusCache struct {
	mu  sync.RWMutex
	ttl time.Duration
	m   map[string]statusEntry
}

type statusEntry struct {
	status string // "" when the application no longer exists
	until  time.Time
}

func newStatusCache(ttl time.Duration) *statusCache {
	return &statusCache{ttl: ttl, m: make(map[string]statusEntry)}
}

// check refuses a token whose application is not active.
func (c *statusCache) check(ctx context.Context, dir *directory.Directory, appID string, now time.Time) error {
	c.mu.RLock()
	e, ok := c.m[appID]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		app, _, err := directory.Get[directory.Application](ctx, dir, appID)
		switch {
		case err == nil:
			e.status = app.Status
		case fault.KindOf(err) == fault.NotFound:
			e.status = ""
		default:
			return err // not cached: the store may be back on the next request
		}
		e.until = now.Add(c.ttl)
		c.mu.Lock()
		c.m[appID] = e
		c.mu.Unlock()
	}
	switch e.status {
	case directory.StatusActive:
		return nil
	case "":
		return badToken("token's client application no longer exists")
	}
	return badToken("token's client application is %s", e.status)
}
