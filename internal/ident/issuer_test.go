package ident

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
)

// issueAll issues person numbers until the issuer fails, and returns them
// with the error.
func issueAll(t *testing.T, is *Issuer, sex Sex, kind PersonKind) ([]PersonNumber, error) {
	t.Helper()
	var out []PersonNumber
	for {
		p, err := is.IssuePerson(context.Background(), 1985, 7, 30, sex, kind)
		if err != nil {
			return out, err
		}
		out = append(out, p)
	}
}

func TestIssuerExhaustsEachSpaceOnce(t *testing.T) {
	tests := []struct {
		sex     Sex
		kind    PersonKind
		n       int
		wantErr string
	}{
		{Male, Register, 499, "ident: number space exhausted: all 499 sequences for male register numbers born 1985-07-30 are issued"},
		{Female, BISSexKnown, 499, "ident: number space exhausted: all 499 sequences for female BIS, sex known numbers born 1985-07-30 are issued"},
		{SexUnknown, BISSexUnknown, 998, "ident: number space exhausted: all 998 sequences for unknown BIS, sex unknown numbers born 1985-07-30 are issued"},
	}
	for _, rng := range []*rand.Rand{nil, rand.New(rand.NewPCG(1, 2))} {
		for _, tt := range tests {
			is := NewIssuer(&MemoryLedger{}, rng)
			got, err := issueAll(t, is, tt.sex, tt.kind)
			if !errors.Is(err, ErrExhausted) || err.Error() != tt.wantErr {
				t.Errorf("IssuePerson(%v, %v) after %d = %v; want %v", tt.sex, tt.kind, len(got), err, tt.wantErr)
			}
			if len(got) != tt.n {
				t.Errorf("IssuePerson(%v, %v) issued %d numbers; want %d", tt.sex, tt.kind, len(got), tt.n)
			}
			seen := map[PersonNumber]bool{}
			for _, p := range got {
				if seen[p] || p.Sex() != tt.sex || p.Kind() != tt.kind || !ValidPerson(p.String()) {
					t.Fatalf("IssuePerson(%v, %v) = %s; want a new, valid number of that sex and kind", tt.sex, tt.kind, describe(p))
				}
				seen[p] = true
			}
		}
	}
}

// Expected numbers: 850730001 mod 97 = 37 → CC 60; 850730003 → 58;
// base 1 → 96; base 20000000 → 42 (checked with an independent script).
func TestIssuerDeterministicOrder(t *testing.T) {
	is := NewIssuer(&MemoryLedger{}, nil)
	for _, want := range []string{"85073000160", "85073000358"} {
		p, err := is.IssuePerson(context.Background(), 1985, 7, 30, Male, Register)
		if err != nil || p.String() != want {
			t.Errorf("IssuePerson(1985-07-30, male) = %v, %v; want %v", p, err, want)
		}
	}
	e, err := is.IssueEnterprise(context.Background())
	if err != nil || e.String() != "0000000097" {
		t.Errorf("IssueEnterprise() = %v, %v; want 0000000097", e, err)
	}
	u, err := is.IssueEstablishment(context.Background())
	if err != nil || u.String() != "2000000042" {
		t.Errorf("IssueEstablishment() = %v, %v; want 2000000042", u, err)
	}
}

func TestIssuerSkipsClaimedNumbers(t *testing.T) {
	ledger := &MemoryLedger{}
	ctx := context.Background()
	ledger.Claim(ctx, LedgerPerson, "85073000160")
	ledger.Claim(ctx, LedgerEnterprise, "0000000097")
	is := NewIssuer(ledger, nil)
	if p, err := is.IssuePerson(ctx, 1985, 7, 30, Male, Register); err != nil || p.String() != "85073000358" {
		t.Errorf("IssuePerson() = %v, %v; want 85073000358", p, err)
	}
	if e, err := is.IssueEnterprise(ctx); err != nil || e.String() != "0000000196" {
		t.Errorf("IssueEnterprise() = %v, %v; want 0000000196", e, err)
	}
	if ledger.Len() != 4 {
		t.Errorf("ledger.Len() = %d; want 4", ledger.Len())
	}
}

func TestIssuerRejectsBadArguments(t *testing.T) {
	tests := []struct {
		year, month, day int
		sex              Sex
		kind             PersonKind
		field, msg       string
	}{
		{1985, 7, 30, SexUnknown, Register, "sex", "sex unknown does not go with register numbers"},
		{1985, 7, 30, SexUnknown, BISSexKnown, "sex", "sex unknown does not go with BIS, sex known numbers"},
		{1985, 7, 30, Male, BISSexUnknown, "sex", "sex male does not go with BIS, sex unknown numbers"},
		{1985, 7, 30, Male, 7, "kind", "person kind 7 is not a kind"},
		{1985, 2, 29, Female, Register, "day", "day 29 is not a day of 1985-02"},
	}
	is := NewIssuer(&MemoryLedger{}, nil)
	for _, tt := range tests {
		_, err := is.IssuePerson(context.Background(), tt.year, tt.month, tt.day, tt.sex, tt.kind)
		var e *Error
		if !errors.As(err, &e) || e.Field != tt.field || e.Msg != tt.msg {
			t.Errorf("IssuePerson(%d-%d-%d, %v, %v) = %v; want %s: %s", tt.year, tt.month, tt.day, tt.sex, tt.kind, err, tt.field, tt.msg)
		}
	}
}

// failingLedger fails every claim, like a store that is down.
type failingLedger struct{ calls int }

var errStoreDown = errors.New("store down")

func (l *failingLedger) Claim(context.Context, string, string) (bool, error) {
	l.calls++
	return false, errStoreDown
}

func TestIssuerStopsOnLedgerError(t *testing.T) {
	l := &failingLedger{}
	is := NewIssuer(l, nil)
	_, err := is.IssuePerson(context.Background(), 1985, 7, 30, Male, Register)
	want := "ident: claiming person number 85073000160: store down"
	if !errors.Is(err, errStoreDown) || err.Error() != want || l.calls != 1 {
		t.Errorf("IssuePerson() = %v after %d claims; want %v after 1", err, l.calls, want)
	}
	if _, err := is.IssueEstablishment(context.Background()); !errors.Is(err, errStoreDown) {
		t.Errorf("IssueEstablishment() = %v; want %v", err, errStoreDown)
	}
}

func TestIssuerStopsWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	is := NewIssuer(&MemoryLedger{}, nil)
	if _, err := is.IssuePerson(ctx, 1985, 7, 30, Male, Register); !errors.Is(err, context.Canceled) {
		t.Errorf("IssuePerson(canceled) = %v; want %v", err, context.Canceled)
	}
	if _, err := is.IssueEnterprise(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("IssueEnterprise(canceled) = %v; want %v", err, context.Canceled)
	}
}

func TestIssuerConcurrent(t *testing.T) {
	is := NewIssuer(&MemoryLedger{}, rand.New(rand.NewPCG(3, 4)))
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 60 {
				p, err := is.IssuePerson(context.Background(), 2001, 1, 1, Female, Register)
				e, err2 := is.IssueEnterprise(context.Background())
				if err != nil || err2 != nil {
					t.Errorf("Issue() = %v, %v; want numbers", err, err2)
					return
				}
				mu.Lock()
				if seen[p.String()] || seen[e.String()] {
					t.Errorf("Issue() = %v, %v; issued before", p, e)
				}
				seen[p.String()], seen[e.String()] = true, true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestMemoryLedgerKeepsKindsApart(t *testing.T) {
	var l MemoryLedger
	ctx := context.Background()
	steps := []struct {
		kind, number string
		want         bool
	}{
		{LedgerEnterprise, "0403170701", true},
		{LedgerEnterprise, "0403170701", false},
		{LedgerEstablishment, "0403170701", true},
	}
	for _, s := range steps {
		if got, err := l.Claim(ctx, s.kind, s.number); got != s.want || err != nil {
			t.Errorf("Claim(%q, %q) = %t, %v; want %t", s.kind, s.number, got, err, s.want)
		}
	}
}
