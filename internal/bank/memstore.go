package bank

import (
	"context"
	"sync"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/iban"
)

// MemStore is a Store in memory, for tests and benchmarks.
type MemStore struct {
	mu       sync.Mutex
	accounts map[iban.IBAN]Account
	byID     map[string]int
	postings []Posting
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{accounts: map[iban.IBAN]Account{}, byID: map[string]int{}}
}

func (m *MemStore) PutAccounts(_ context.Context, as []Account) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range as {
		m.accounts[a.IBAN] = a
	}
	return nil
}

func (m *MemStore) Accounts(_ context.Context, ibans []iban.IBAN) (map[iban.IBAN]Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[iban.IBAN]Account, len(ibans))
	for _, i := range ibans {
		if a, ok := m.accounts[i]; ok {
			out[i] = a
		}
	}
	return out, nil
}

func (m *MemStore) Post(_ context.Context, ps []Posting) ([]Posting, []bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	held, fresh := make([]Posting, len(ps)), make([]bool, len(ps))
	for i, p := range ps {
		if k, ok := m.byID[p.ID]; ok {
			held[i] = m.postings[k]
			continue
		}
		m.byID[p.ID] = len(m.postings)
		m.postings = append(m.postings, p)
		held[i], fresh[i] = p, true
	}
	return held, fresh, nil
}

func (m *MemStore) Postings(_ context.Context, payer iban.IBAN, day date.Date) ([]Posting, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Posting
	for _, p := range m.postings {
		if p.Payer == payer && p.Booked == day {
			out = append(out, p)
		}
	}
	return out, nil
}
