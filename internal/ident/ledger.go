package ident

import (
	"context"
	"sync"
)

// Ledger records issued numbers, so that no number is ever issued twice,
// also across restarts when the ledger is durable. Claim records number
// under kind (LedgerPerson, LedgerEnterprise or LedgerEstablishment; number
// is the wire form) and returns false if it was already recorded. Claim must
// be atomic: of concurrent claims of one number, exactly one may succeed.
type Ledger interface {
	Claim(ctx context.Context, kind string, number string) (bool, error)
}

// Kinds under which an Issuer claims numbers in a Ledger.
const (
	LedgerPerson        = "person"
	LedgerEnterprise    = "enterprise"
	LedgerEstablishment = "establishment"
)

// MemoryLedger is a Ledger held in memory, for tests and for CLI use
// without a store. Its zero value is empty and ready to use; it is safe for
// concurrent use.
type MemoryLedger struct {
	mu     sync.Mutex
	issued map[ledgerKey]struct{}
}

// ledgerKey keeps kinds apart, so that equal digits of different kinds do
// not collide.
type ledgerKey struct{ kind, number string }

// Claim records number under kind and reports whether it was new. It fails
// only when ctx is done, like a store would.
func (l *MemoryLedger) Claim(ctx context.Context, kind, number string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.issued == nil {
		l.issued = make(map[ledgerKey]struct{})
	}
	k := ledgerKey{kind, number}
	if _, dup := l.issued[k]; dup {
		return false, nil
	}
	l.issued[k] = struct{}{}
	return true, nil
}

// Len returns how many numbers have been claimed, of all kinds.
func (l *MemoryLedger) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.issued)
}
