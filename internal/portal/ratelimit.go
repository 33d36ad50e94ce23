package portal

import (
	"sync"
	"time"
)

// limits counts attempts by key within a window, and refuses beyond a budget: failed
// proof codes per verifier and per address, codes sent per person, code guesses per
// login. The number of keys is bounded; when full, expired windows are dropped, then the
// new key is refused (an attacker cycling keys gets nothing more).
type limits struct {
	mu  sync.Mutex
	m   map[string]*window
	now func() time.Time
}

type window struct {
	start time.Time
	n     int
}

const maxLimitKeys = 200_000

// Budgets.
var (
	budgetSend     = rate{3, 15 * time.Minute}  // codes sent to one person
	budgetSendAddr = rate{20, 15 * time.Minute} // codes asked from one address
	budgetGuess    = rate{5, 15 * time.Minute}  // wrong one-time codes of one login
	budgetVerify   = rate{10, 10 * time.Minute} // wrong proof codes of one verifier or address
	budgetProof    = rate{30, time.Hour}        // proofs one person creates
	// failed administrator tokens from one address (the professional login's failures
	// are limited by the hub's OAuth2 server, as its token endpoint's)
	budgetAdminLogin = rate{10, 10 * time.Minute}
)

type rate struct {
	n   int
	per time.Duration
}

func newLimits(now func() time.Time) *limits { return &limits{m: map[string]*window{}, now: now} }

// allow reports whether key may try again under r (it does not count the attempt).
func (l *limits) allow(key string, r rate) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.m[key]
	return w == nil || l.now().Sub(w.start) >= r.per || w.n < r.n
}

// charge counts one attempt of key under r and reports whether it was within budget.
func (l *limits) charge(key string, r rate) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.m[key]
	if w == nil || now.Sub(w.start) >= r.per {
		if w == nil && len(l.m) >= maxLimitKeys {
			for k, old := range l.m {
				if now.Sub(old.start) >= time.Hour {
					delete(l.m, k)
				}
			}
			if len(l.m) >= maxLimitKeys {
				return false
			}
		}
		w = &window{start: now}
		l.m[key] = w
	}
	w.n++
	return w.n <= r.n
}
