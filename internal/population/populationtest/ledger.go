package populationtest

import (
	"context"
	"sync"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// RunLedger runs the contract of ident.Ledger; newLedger returns an empty ledger.
func RunLedger(t *testing.T, newLedger func(t *testing.T) ident.Ledger) {
	ctx := context.Background()
	l := newLedger(t)
	p := number(1985, 7, 30, 33)
	tests := []struct {
		kind, number string
		want         bool
	}{
		{ident.LedgerPerson, p, true},
		{ident.LedgerPerson, p, false},
		{ident.LedgerEnterprise, "0123456749", true},
		{ident.LedgerEstablishment, "0123456749", true},
		{ident.LedgerEnterprise, "0123456749", false},
		{ident.LedgerPerson, number(2005, 1, 1, 2), true},
	}
	for _, tt := range tests {
		if got, err := l.Claim(ctx, tt.kind, tt.number); err != nil || got != tt.want {
			t.Errorf("Claim(%s, %s) = %v, %v; want %v", tt.kind, tt.number, got, err, tt.want)
		}
	}
	t.Run("concurrent", func(t *testing.T) { runConcurrentClaims(t, l) })
}

// runConcurrentClaims claims one number from many goroutines: exactly one must win.
func runConcurrentClaims(t *testing.T, l ident.Ledger) {
	for round, kind := range []string{ident.LedgerPerson, ident.LedgerEnterprise} {
		num := number(1960, 6, 6, 100+round)
		if kind == ident.LedgerEnterprise {
			num = "0987654321"
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for range 16 {
			wg.Go(func() {
				ok, err := l.Claim(context.Background(), kind, num)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("Claim(%s, %s): %v", kind, num, err)
				}
				if ok {
					won++
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Errorf("%d of 16 concurrent claims of %s %s succeeded; want 1", won, kind, num)
		}
	}
}

// runPersonLedger checks, for stores that are also ledgers, that the numbers of
// registered persons are never issued again.
func runPersonLedger(t *testing.T, newStore func(t *testing.T) population.Store) {
	s := newStore(t)
	l, ok := s.(ident.Ledger)
	if !ok {
		t.Skip("the store is not an ident.Ledger")
	}
	mustPut(t, s, sample(1))
	ctx := context.Background()
	if got, err := l.Claim(ctx, ident.LedgerPerson, sample(1).Number); err != nil || got {
		t.Errorf("Claim(person of the register) = %v, %v; want false", got, err)
	}
	if got, err := l.Claim(ctx, ident.LedgerPerson, sample(2).Number); err != nil || !got {
		t.Errorf("Claim(unregistered person) = %v, %v; want true", got, err)
	}
	if got, err := l.Claim(ctx, ident.LedgerEnterprise, sample(1).Number[:10]); err != nil || !got {
		t.Errorf("Claim(enterprise) = %v, %v; want true", got, err)
	}
}
