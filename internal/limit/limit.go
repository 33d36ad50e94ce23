// Package limit admits work by key — a client, an address — so that one caller cannot
// take what the others need: at most so many pieces of work at once per key, and a
// budget per key that the work's cost is charged to and that refills at a steady rate
// (a token bucket whose balance may go below zero: work whose cost is known only when
// it ends is admitted while the balance is positive, and a costly piece leaves a debt
// that refuses the next ones until it is paid back).
//
// A Limiter remembers a bounded number of keys, runs no goroutine, and reads the time
// from an injected clock. What a refusal means to a caller (429 and Retry-After over
// HTTP) is for the caller to say; Refused carries how long to wait.
package limit

import (
	"errors"
	"math"
	"strconv"
	"sync"
	"time"
)

// Config sets a Limiter's limits. The zero value of a field turns its limit off.
type Config struct {
	Concurrent int     // pieces of work of one key under way at once
	Rate       float64 // budget a key regains a second; 0: no budget
	Burst      float64 // budget a key starts with and can save up to
	// Keys is how many keys the limiter remembers at most (default 10,000): beyond, it
	// forgets the keys it holds nothing about, then the least charged idle one, and
	// refuses a new key only when every key it remembers has work under way.
	Keys int
	Now  func() time.Time // default time.Now
}

// DefaultKeys is the number of keys a Limiter remembers unless told otherwise.
const DefaultKeys = 10_000

// maxKey bounds a key's length: keys may be caller input (a claimed client id).
const maxKey = 128

// Limiter admits work by key. It is safe for concurrent use.
type Limiter struct {
	cfg  Config
	mu   sync.Mutex
	keys map[string]*entry
}

type entry struct {
	busy    int       // work under way
	balance float64   // budget as of at
	at      time.Time // when balance was last brought up to date
}

// New returns a limiter with the limits of c.
func New(c Config) *Limiter {
	if c.Keys <= 0 {
		c.Keys = DefaultKeys
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Limiter{cfg: c, keys: map[string]*entry{}}
}

// Refused is why work was not admitted and when to ask again.
type Refused struct {
	After time.Duration // how long to wait before asking again, at least a second
	Why   string
}

func (r *Refused) Error() string { return r.Why }

// RetryAfter returns the wait a refusal in err's chain asks for, in whole seconds
// rounded up (as the HTTP header Retry-After says it), and false if err holds none.
func RetryAfter(err error) (seconds int, ok bool) {
	var r *Refused
	if !errors.As(err, &r) {
		return 0, false
	}
	return int(math.Ceil(max(r.After, time.Second).Seconds())), true
}

// Ticket is admitted work. Done ends it; a Ticket is used once.
type Ticket struct {
	l        *Limiter
	key      string
	reserved float64
}

// Take admits one piece of work of key, reserving est of its budget (the cost the work
// is expected to have; 0 when unknown), or refuses it with a *Refused. The work's cost
// is charged when it is Done.
func (l *Limiter) Take(key string, est float64) (*Ticket, error) {
	if len(key) > maxKey {
		key = key[:maxKey]
	}
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= l.cfg.Keys && !l.forget(now) {
			return nil, &Refused{After: time.Second, Why: "too many callers at once"}
		}
		e = &entry{balance: l.cfg.Burst, at: now}
		l.keys[key] = e
	}
	l.refill(e, now)
	if l.cfg.Concurrent > 0 && e.busy >= l.cfg.Concurrent {
		return nil, &Refused{After: time.Second, Why: strconv.Itoa(e.busy) + " already under way, the most allowed at once"}
	}
	if l.cfg.Rate > 0 && (e.balance <= 0 || e.balance < est) {
		wait := time.Duration((max(est, 0.001) - e.balance) / l.cfg.Rate * float64(time.Second))
		return nil, &Refused{After: wait, Why: "the budget is spent; it refills over time"}
	}
	e.busy++
	e.balance -= est
	return &Ticket{l: l, key: key, reserved: est}, nil
}

// Done ends the work, charging cost to the key's budget in place of what Take reserved.
func (t *Ticket) Done(cost float64) {
	l := t.l
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.keys[t.key]
	if !ok {
		return // cannot happen: a key with work under way is never forgotten
	}
	l.refill(e, now)
	e.busy--
	e.balance = min(e.balance+t.reserved-cost, l.cfg.Burst)
}

// Len is the number of keys the limiter remembers.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

func (l *Limiter) refill(e *entry, now time.Time) {
	if dt := now.Sub(e.at); dt > 0 {
		e.balance = min(e.balance+dt.Seconds()*l.cfg.Rate, l.cfg.Burst)
		e.at = now
	}
}

// forget makes room for a key: it drops the keys with nothing under way and a full
// budget (they tell nothing a new entry would not), else the idle key with the largest
// balance (the least charged). False if every key has work under way.
func (l *Limiter) forget(now time.Time) bool {
	var least string
	best := math.Inf(-1)
	for k, e := range l.keys {
		if e.busy > 0 {
			continue
		}
		l.refill(e, now)
		if e.balance >= l.cfg.Burst {
			delete(l.keys, k)
			continue
		}
		if e.balance > best {
			least, best = k, e.balance
		}
	}
	if len(l.keys) < l.cfg.Keys {
		return true
	}
	if math.IsInf(best, -1) {
		return false
	}
	delete(l.keys, least)
	return true
}

// Keys is the most keys the limiter remembers (Config.Keys).
func (l *Limiter) Keys() int { return l.cfg.Keys }
