package employment

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/limit"
)

// The social registry's event types a hire and an exit become (derived's names).
const (
	EventStart = "employment_start"
	EventEnd   = "employment_end"
)

// MaxBatch bounds the declarations of one batch.
const MaxBatch = 1000

// Mandates says whether an institution may declare for an employer: it is that employer,
// or the employer mandated it (a payroll office). A refusal is a fault.Forbidden.
type Mandates func(ctx context.Context, institution, employer string) error

// Source is the employment source's rules over its store.
type Source struct {
	Store    Store
	Mandates Mandates
	// Competent routes a social-risk declaration (from the directory); nil: none taken.
	Competent Competent
	Now       func() time.Time // nil: time.Now
	// Unknown limits, per declaring institution, the hires refused because no living
	// person has the number (nil: UnknownPerHour an hour).
	Unknown *limit.Limiter
	once    sync.Once
}

func (s *Source) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Declare checks and records one immediate declaration made by institution: the
// declaration as recorded (late when received after the day it declares), or the error
// naming the field at fault. A declaration for an employer that did not mandate the
// institution is refused (fault.Forbidden) before anything about the relation is told.
func (s *Source) Declare(ctx context.Context, institution string, d Declaration) (Declaration, error) {
	d.ID, d.Event, d.Late, d.DeclaredBy, d.Received = 0, 0, false, institution, s.now()
	today := date.FromTime(d.Received)
	switch d.Kind {
	case Hire:
		return s.hire(ctx, d, today)
	case Exit, Cancel, Correct:
		if d.Relation <= 0 {
			return Declaration{}, fault.Invalidf("relation", "is required for a declaration of kind %s: the id the hire's answer gave", d.Kind)
		}
		rel, err := s.Store.Relation(ctx, d.Relation)
		if fault.KindOf(err) == fault.NotFound {
			// Told apart from a relation of another employer only after the mandate.
			return Declaration{}, fault.Forbiddenf("no relation %d that you may declare for", d.Relation)
		}
		if err != nil {
			return Declaration{}, err
		}
		if err := s.Mandates(ctx, institution, rel.Employer); err != nil {
			return Declaration{}, fault.Forbiddenf("no relation %d that you may declare for", d.Relation)
		}
		if rel.Status == Cancelled {
			return Declaration{}, fault.Conflictf("relation", "relation %d was cancelled", rel.ID)
		}
		if d.Person != "" && d.Person != rel.Person { // a worker named must be the relation's
			return Declaration{}, fault.Invalidf("person", "relation %d is not a relation of %s", rel.ID, d.Person)
		}
		d.Person, d.Employer = rel.Person, rel.Employer
		switch d.Kind {
		case Exit:
			return s.exit(ctx, d, rel, today)
		case Cancel:
			return s.cancel(ctx, d, rel)
		}
		return s.correct(ctx, d, rel)
	}
	return Declaration{}, fault.Invalidf("kind", "%q: use %s, %s, %s or %s", d.Kind, Hire, Exit, Cancel, Correct)
}

// hire records a hire. A hire of a number no living person has (a bad check digit, a
// number the civil register does not hold, a deceased person) gets one answer, noWorker,
// unless the employer had a relation with the person: told apart, they would let any
// declarer ask the register who exists and who died. Those refusals are charged to the
// declarer's budget (Source.Unknown): spent, its hires are refused for a while (429).
func (s *Source) hire(ctx context.Context, d Declaration, today date.Date) (Declaration, error) {
	en, err := ident.ParseEnterprise(d.Employer)
	if err != nil {
		return Declaration{}, fault.Invalidf("employer", "%v", err)
	}
	d.Employer = en.String()
	if err := s.Mandates(ctx, d.DeclaredBy, d.Employer); err != nil {
		return Declaration{}, err
	}
	// Nothing reserved: a payroll office's many hires at once are not held back; the
	// refusals are charged when known (concurrent ones may overrun the budget by a few).
	ticket, err := s.unknown().Take(d.DeclaredBy, 0)
	if err != nil {
		secs, _ := limit.RetryAfter(err)
		return Declaration{}, fault.TooManyf(err, "too many hires of person numbers no living person has; retry after %d s", secs)
	}
	d, err = s.hireChecked(ctx, d, today)
	if errors.Is(err, errNoWorker) {
		ticket.Done(1)
		return d, noWorker()
	}
	ticket.Done(0)
	return d, err
}

// errNoWorker marks the refusals hire answers with noWorker.
var errNoWorker = errors.New("no living person with this number")

// noWorker is the one answer to a hire of a number no living person has.
func noWorker() error {
	return &fault.Error{Kind: fault.Invalid, Field: "person", Err: errNoWorker,
		Msg: "no living person with this number can be hired: check the number against the worker's identity document"}
}

// UnknownPerHour is how many hires of numbers no living person has a declarer may make
// in an hour (its budget refills at that rate).
const UnknownPerHour = 30

// unknown is the budget of hires refused for their worker, per declarer.
func (s *Source) unknown() *limit.Limiter {
	s.once.Do(func() {
		if s.Unknown == nil {
			s.Unknown = limit.New(limit.Config{Rate: UnknownPerHour / 3600.0, Burst: UnknownPerHour, Now: s.Now})
		}
	})
	return s.Unknown
}

func (s *Source) hireChecked(ctx context.Context, d Declaration, today date.Date) (Declaration, error) {
	pn, err := ident.ParsePerson(d.Person)
	if err != nil {
		return Declaration{}, &fault.Error{Kind: fault.Invalid, Err: errNoWorker}
	}
	d.Person = pn.String()
	if err := checkFacts(&d, true); err != nil {
		return Declaration{}, err
	}
	switch {
	case d.Start.IsZero():
		return Declaration{}, fault.Invalidf("start", "is required (YYYY-MM-DD): the first day of work")
	case !d.End.IsZero():
		return Declaration{}, fault.Invalidf("end", "a hire declares no end: declare the exit when it is known")
	case d.Start > today.AddDays(366):
		return Declaration{}, fault.Invalidf("start", "%s is more than a year ahead", d.Start)
	}
	// A worker already working for the employer is refused by the store, in the
	// transaction (Store.Apply: a conflict), so a hire sent twice at once is taken once;
	// no read before it.
	d.Late = today > d.Start
	rel := Relation{Person: d.Person, Employer: d.Employer, Establishment: d.Establishment, Start: d.Start,
		End: date.Max, Contract: d.Contract, Fraction: d.Fraction, Sector: d.Sector, Status: Active, Version: 1}
	ev := mutation(EventStart, d.Person, d.Start, d.Employer)
	stored, err := s.Store.Apply(ctx, d, rel, &ev)
	if errors.Is(err, ErrNotInRegister) || errors.Is(err, ErrDeceased) {
		// The precise answer only to an employer that knew the person.
		if rels, rerr := s.Store.Relations(ctx, d.Person); rerr != nil || !slices.ContainsFunc(rels, func(r Relation) bool { return r.Employer == d.Employer }) {
			return Declaration{}, &fault.Error{Kind: fault.Invalid, Err: errNoWorker}
		}
	}
	return stored, err
}

func (s *Source) exit(ctx context.Context, d Declaration, rel Relation, today date.Date) (Declaration, error) {
	switch {
	case d.End.IsZero():
		return Declaration{}, fault.Invalidf("end", "is required (YYYY-MM-DD): the last day worked")
	case d.End < rel.Start:
		return Declaration{}, fault.Invalidf("end", "%s is before the relation's start (%s)", d.End, rel.Start)
	case rel.End != date.Max:
		return Declaration{}, fault.Conflictf("relation", "relation %d already ended on %s", rel.ID, rel.End)
	}
	if err := noFacts(d); err != nil {
		return Declaration{}, err
	}
	d.Late = today > d.End
	rel.End = d.End
	// The registry's employment ends the day after the last day worked.
	ev := mutation(EventEnd, rel.Person, d.End.AddDays(1), rel.Employer)
	return s.Store.Apply(ctx, d, rel, &ev)
}

func (s *Source) cancel(ctx context.Context, d Declaration, rel Relation) (Declaration, error) {
	if err := noFacts(d); err != nil {
		return Declaration{}, err
	}
	if !d.Start.IsZero() || !d.End.IsZero() {
		return Declaration{}, fault.Invalidf("start", "a cancellation names the relation only")
	}
	rel.Status = Cancelled
	var ev *Mutation
	if rel.End == date.Max { // the registry still counts the employment: it ends where it began
		m := mutation(EventEnd, rel.Person, rel.Start, rel.Employer)
		ev = &m
	}
	return s.Store.Apply(ctx, d, rel, ev)
}

func (s *Source) correct(ctx context.Context, d Declaration, rel Relation) (Declaration, error) {
	if !d.Start.IsZero() || !d.End.IsZero() {
		return Declaration{}, fault.Invalidf("start", "a correction does not move dates: cancel the hire and declare it again")
	}
	if d.Establishment == "" && d.Contract == "" && d.Fraction == 0 && d.Sector == "" {
		return Declaration{}, fault.Invalidf("kind", "a correction changes at least one of establishment, contract, fraction, sector")
	}
	if err := checkFacts(&d, false); err != nil {
		return Declaration{}, err
	}
	rel.Establishment = cmpStr(d.Establishment, rel.Establishment)
	rel.Contract = cmpStr(d.Contract, rel.Contract)
	rel.Sector = cmpStr(d.Sector, rel.Sector)
	if d.Fraction != 0 {
		rel.Fraction = d.Fraction
	}
	return s.Store.Apply(ctx, d, rel, nil) // the social registry does not carry these facts
}

// checkFacts checks the relation's facts a hire (all required) or a correction (those
// given) declares, normalising the establishment number.
func checkFacts(d *Declaration, required bool) error {
	if d.Establishment != "" {
		n, err := ident.ParseEstablishment(d.Establishment)
		if err != nil {
			return fault.Invalidf("establishment", "%v", err)
		}
		d.Establishment = n.String()
	}
	if (required || d.Contract != "") && !slices.Contains(Contracts, d.Contract) {
		return fault.Invalidf("contract", "%q: use %s", d.Contract, strings.Join(Contracts, ", "))
	}
	if (required || d.Fraction != 0) && !(d.Fraction > 0 && d.Fraction <= 1) {
		return fault.Invalidf("fraction", "%v: a working-time fraction is above 0 and at most 1", d.Fraction)
	}
	if (required || d.Sector != "") && !validSector(d.Sector) {
		return fault.Invalidf("sector", "%q: a joint committee or sector code is 3 digits", d.Sector)
	}
	return nil
}

// noFacts refuses relation facts on an exit or a cancellation.
func noFacts(d Declaration) error {
	if d.Establishment != "" || d.Contract != "" || d.Fraction != 0 || d.Sector != "" {
		return fault.Invalidf("kind", "a declaration of kind %s carries no establishment, contract, fraction or sector: use %s", d.Kind, Correct)
	}
	return nil
}

func validSector(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range 3 {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func mutation(typ, person string, day date.Date, employer string) Mutation {
	data, _ := json.Marshal(struct {
		Employer string `json:"employer"`
	}{employer})
	return Mutation{Type: typ, Person: person, Date: day, Data: data}
}

func cmpStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
