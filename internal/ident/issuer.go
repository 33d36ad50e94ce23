package ident

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
)

// ErrExhausted is wrapped by the error an Issuer returns when every number
// of the requested space has been issued; test for it with errors.Is.
var ErrExhausted = errors.New("ident: number space exhausted")

// Issuer issues numbers that were never issued before. It walks the space
// of candidates from a start point, claiming each in its Ledger until a
// claim succeeds, so the ledger alone decides what is taken and several
// issuers may share one ledger. It is safe for concurrent use.
type Issuer struct {
	ledger Ledger
	mu     sync.Mutex // guards rng, which is not safe for concurrent use
	rng    *rand.Rand
}

// NewIssuer returns an Issuer recording in ledger. With a nil rng every walk
// starts at the lowest candidate, which makes issuing deterministic; with an
// rng it starts at a random candidate, so that numbers do not reveal the
// order of issue and concurrent issuers rarely contend.
func NewIssuer(ledger Ledger, rng *rand.Rand) *Issuer {
	return &Issuer{ledger: ledger, rng: rng}
}

// IssuePerson issues a person number for a birth date (month and day 0 when
// unknown) and sex. Register and BISSexKnown numbers need Male or Female
// and draw from the 499 odd or even sequences; BISSexUnknown numbers need
// SexUnknown and draw from all 998. The error wraps ErrExhausted when all
// are issued, is an *Error for bad arguments, or wraps the ledger's error.
func (is *Issuer) IssuePerson(ctx context.Context, year, month, day int, sex Sex, kind PersonKind) (PersonNumber, error) {
	first, n, err := seqSpace(sex, kind)
	if err != nil {
		return PersonNumber{}, err
	}
	if _, err := MakePerson(year, month, day, first, kind); err != nil {
		return PersonNumber{}, err
	}
	step := 2
	if n == maxSeq {
		step = 1
	}
	var p PersonNumber
	err = is.walk(ctx, n, func(i int) (bool, error) {
		p, _ = MakePerson(year, month, day, first+i*step, kind)
		return is.claim(ctx, LedgerPerson, p.String())
	})
	if errors.Is(err, ErrExhausted) {
		err = fmt.Errorf("%w: all %d sequences for %s %s numbers born %04d-%02d-%02d are issued",
			ErrExhausted, n, sex, kind, year, month, day)
	}
	if err != nil {
		return PersonNumber{}, err
	}
	return p, nil
}

// seqSpace returns the first sequence and how many there are for sex and
// kind, or an *Error when the two do not go together.
func seqSpace(sex Sex, kind PersonKind) (first, n int, err error) {
	switch {
	case kind > BISSexKnown:
		return 0, 0, errorf("", "kind", "person kind %d is not a kind", uint8(kind))
	case kind == BISSexUnknown && sex != SexUnknown:
		return 0, 0, errorf("", "sex", "sex %s does not go with %s numbers", sex, kind)
	case kind == BISSexUnknown:
		return minSeq, maxSeq, nil
	case sex == Male:
		return 1, maxSeq / 2, nil
	case sex == Female:
		return 2, maxSeq / 2, nil
	}
	return 0, 0, errorf("", "sex", "sex %s does not go with %s numbers", sex, kind)
}

// IssueEnterprise issues an enterprise number; it draws from all bases
// 00000000-19999999.
func (is *Issuer) IssueEnterprise(ctx context.Context) (EnterpriseNumber, error) {
	v, err := is.issueUnit(ctx, enterprise, LedgerEnterprise)
	return EnterpriseNumber{v}, err
}

// IssueEstablishment issues an establishment-unit number; it draws from all
// bases 20000000-89999999.
func (is *Issuer) IssueEstablishment(ctx context.Context) (EstablishmentNumber, error) {
	v, err := is.issueUnit(ctx, establishment, LedgerEstablishment)
	return EstablishmentNumber{v}, err
}

// issueUnit walks the bases of a 10-digit scheme.
func (is *Issuer) issueUnit(ctx context.Context, sc *scheme, kind string) (uint64, error) {
	lo, n := sc.lo*1e7, (sc.hi-sc.lo+1)*1e7
	var v uint64
	err := is.walk(ctx, n, func(i int) (bool, error) {
		v, _ = sc.make(lo + i)
		return is.claim(ctx, kind, layoutUnit(v, "##########"))
	})
	if errors.Is(err, ErrExhausted) {
		err = fmt.Errorf("%w: all %d %ss are issued", ErrExhausted, n, sc.name)
	}
	if err != nil {
		return 0, err
	}
	return v, nil
}

// claim asks the ledger, naming the number if the ledger fails.
func (is *Issuer) claim(ctx context.Context, kind, number string) (bool, error) {
	ok, err := is.ledger.Claim(ctx, kind, number)
	if err != nil {
		return false, fmt.Errorf("ident: claiming %s number %s: %w", kind, number, err)
	}
	return ok, nil
}

// walk offers candidates start, start+1, ... (mod n) to try until one is
// claimed, and returns ErrExhausted after all n failed. It stops early when
// ctx is done or try fails, so that a broken ledger is not asked n times.
func (is *Issuer) walk(ctx context.Context, n int, try func(i int) (bool, error)) error {
	start := is.start(n)
	for k := 0; k < n; k++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		ok, err := try((start + k) % n)
		if err != nil || ok {
			return err
		}
	}
	return ErrExhausted
}

// start picks where a walk over n candidates begins.
func (is *Issuer) start(n int) int {
	if is.rng == nil {
		return 0
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.rng.IntN(n)
}
