package dciclient

import (
	"sync"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Callbacks matches the callbacks of asynchronous sources (on-search, …) with the calls
// waiting for them, by transaction id. The hub's HTTP API hands each callback it has
// authenticated to Deliver; the Client waiting for that transaction takes it. It is safe
// for concurrent use.
type Callbacks struct {
	mu      sync.Mutex
	waiting map[string]waiter
}

type waiter struct {
	institution string // who may answer: the source's institution
	action      string // the callback awaited, e.g. "on-search"
	ch          chan []byte
}

// await registers a call for transaction, answered by institution with action; cancel
// forgets it.
func (c *Callbacks) await(transaction, institution, action string) (answer <-chan []byte, cancel func()) {
	ch := make(chan []byte, 1)
	c.mu.Lock()
	if c.waiting == nil {
		c.waiting = map[string]waiter{}
	}
	c.waiting[transaction] = waiter{institution, action, ch}
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		delete(c.waiting, transaction)
		c.mu.Unlock()
	}
}

// Deliver hands the callback body (action, from institution, for transaction) to the
// call waiting for it. It fails if no call waits for that transaction (unknown, already
// answered, or given up), or if the callback is not from the source asked or not the
// answer awaited.
func (c *Callbacks) Deliver(transaction, institution, action string, body []byte) error {
	c.mu.Lock()
	w, ok := c.waiting[transaction]
	if ok && w.institution == institution && w.action == action {
		delete(c.waiting, transaction)
	}
	c.mu.Unlock()
	switch {
	case !ok:
		return fault.NotFoundf("no call of the hub waits for transaction %q", transaction)
	case w.institution != institution:
		return fault.Forbiddenf("transaction %q was not sent to %s", transaction, institution)
	case w.action != action:
		return fault.Invalidf("header.action", "transaction %q awaits %s, not %s", transaction, w.action, action)
	}
	w.ch <- body
	return nil
}
