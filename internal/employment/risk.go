package employment

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// Social risks an employer declares, and the causes or reasons each takes.
const (
	Incapacity   = "incapacity"   // incapacity for work: illness, accident
	Unemployment = "unemployment" // loss of work: full or temporary
)

// Risks lists the social risks, with the values of their specific member: an
// incapacity's cause, an unemployment's reason.
var Risks = map[string][]string{
	Incapacity:   {"illness", "accident", "work-accident", "occupational-disease", "maternity"},
	Unemployment: {"dismissal", "end-of-contract", "resignation", "temporary"},
}

// Phases of a social-risk declaration: a start opens a case; a recurrence (a relapse
// after a return to work), a continuation (the case goes on past what was declared)
// and an end name it.
const (
	RiskStart        = "start"
	RiskRecurrence   = "recurrence"
	RiskContinuation = "continuation"
	RiskEnd          = "end"
)

// Statuses of a social-risk declaration at the competent institution.
const (
	RiskSubmitted    = "submitted"    // routed, not yet acknowledged
	RiskAcknowledged = "acknowledged" // the institution took it in charge
)

// EventSocialRisk is the social registry's event a social-risk declaration becomes
// (derived's name).
const EventSocialRisk = "social_risk"

// RiskServicePrefix names, with the risk, the directory service whose institution is
// competent for it: social-risk-incapacity, social-risk-unemployment.
const RiskServicePrefix = "social-risk-"

// RiskWages is the mini-declaration: the wages and working time of the current quarter
// up to the risk, not yet declared in a quarterly file, so the institution can compute
// the benefit at once.
type RiskWages struct {
	From  date.Date `json:"from"`  // first day the wages cover
	To    date.Date `json:"to"`    // last day worked
	Wages int64     `json:"wages"` // gross, cents
	Bonus int64     `json:"bonus"` // gross, other kinds, cents
	Days  int       `json:"days"`
	Hours float64   `json:"hours"`
}

// RiskDeclaration is a declaration of a social risk by an employer (or the payroll
// office it mandated), routed to the institution competent for the risk.
type RiskDeclaration struct {
	ID       int64     `json:"id,omitempty"`
	Risk     string    `json:"risk"`
	Phase    string    `json:"phase"`
	Case     int64     `json:"case,omitempty"` // the start's id; given for the other phases
	Person   string    `json:"person"`
	Employer string    `json:"employer"`
	Day      date.Date `json:"day"` // start, recurrence: first day of the risk; continuation: new expected end; end: last day
	// Cause (incapacity) or Reason (unemployment): the risk-specific data.
	Cause       string     `json:"cause,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	ExpectedEnd date.Date  `json:"expected_end,omitempty"` // incapacity: as the certificate says
	HoursLost   float64    `json:"hours_lost,omitempty"`   // temporary unemployment: hours a week
	Wages       *RiskWages `json:"wages,omitempty"`        // required at a start and a recurrence

	// Set by the source.
	Institution string    `json:"institution,omitempty"` // the competent institution
	Status      string    `json:"status,omitempty"`
	DeclaredBy  string    `json:"declared_by,omitempty"`
	Received    time.Time `json:"received,omitzero"`
	Late        bool      `json:"late,omitempty"` // a start or recurrence received more than 7 days after its day
	Event       int64     `json:"event,omitempty"`
	AckAt       time.Time `json:"acknowledged_at,omitzero"`
	AckRef      string    `json:"acknowledged_ref,omitempty"` // the institution's file reference
}

// RiskStore keeps the social-risk declarations.
type RiskStore interface {
	// ApplyRisk records an accepted declaration and, in the same transaction, the social
	// registry's event ev (as Apply does); it returns d with ID and Event set.
	ApplyRisk(ctx context.Context, d RiskDeclaration, ev Mutation) (RiskDeclaration, error)
	// Risk reads one declaration (fault.NotFound if none).
	Risk(ctx context.Context, id int64) (RiskDeclaration, error)
	// Risks lists a worker's declarations, in the order received.
	Risks(ctx context.Context, person string) ([]RiskDeclaration, error)
	// RisksFor lists the declarations routed to institution with status ("": any), by id.
	RisksFor(ctx context.Context, institution, status string, after int64, limit int) ([]RiskDeclaration, error)
	// AckRisk marks a declaration routed to institution acknowledged (fault.NotFound for
	// another's, fault.Conflict when acknowledged already).
	AckRisk(ctx context.Context, id int64, institution, ref string, at time.Time) (RiskDeclaration, error)
}

// Competent names the institution competent for a worker's social risk on a day (from
// the directory): for a risk in InsuredWith, the worker's own insurer, never another.
type Competent func(ctx context.Context, risk, person string, day date.Date) (string, error)

// InsuredWith names, for a risk each worker is insured for with an institution of their
// own, the sector of that institution: an incapacity goes to the worker's health insurer
// (the one holding the worker's file in the person directory), and to no other.
var InsuredWith = map[string]string{Incapacity: "health"}

// lateAfter is how long after its day a start or recurrence may come without a flag.
const lateAfter = 7

// DeclareRisk checks and records a social-risk declaration made by institution, routed
// to the competent institution: the declaration as recorded, or the error naming the
// field at fault. The employer's mandate is checked before anything about the worker is
// told; the worker must have a relation with the employer in force on the day.
func (s *Source) DeclareRisk(ctx context.Context, institution string, d RiskDeclaration) (RiskDeclaration, error) {
	d.ID, d.Event, d.Late, d.DeclaredBy, d.Received, d.Status, d.Institution = 0, 0, false, institution, s.now(), RiskSubmitted, ""
	d.AckAt, d.AckRef = time.Time{}, ""
	rs := s.Store
	if s.Competent == nil {
		return RiskDeclaration{}, fault.Unavailablef(nil, "social-risk declarations are not routed here")
	}
	pn, err := ident.ParsePerson(d.Person)
	if err != nil {
		return RiskDeclaration{}, fault.Invalidf("person", "%v", err)
	}
	en, err := ident.ParseEnterprise(d.Employer)
	if err != nil {
		return RiskDeclaration{}, fault.Invalidf("employer", "%v", err)
	}
	d.Person, d.Employer = pn.String(), en.String()
	if err := s.Mandates(ctx, institution, d.Employer); err != nil {
		return RiskDeclaration{}, err
	}
	if err := d.check(date.FromTime(d.Received)); err != nil {
		return RiskDeclaration{}, err
	}
	if d.Phase == RiskStart {
		if d.Case != 0 {
			return RiskDeclaration{}, fault.Invalidf("case", "a start opens a case: it names none")
		}
	} else if err := s.sameCase(ctx, rs, &d); err != nil {
		return RiskDeclaration{}, err
	}
	rel, open, err := s.Store.Open(ctx, d.Person, d.Employer, d.Day)
	if err != nil {
		return RiskDeclaration{}, err
	}
	if !open || rel.Start > d.Day {
		return RiskDeclaration{}, fault.Invalidf("person", "%s has no employment relation with %s on %s", d.Person, d.Employer, d.Day)
	}
	if d.Phase == RiskStart { // the other phases go where the case is (sameCase)
		if d.Institution, err = s.Competent(ctx, d.Risk, d.Person, d.Day); err != nil {
			return RiskDeclaration{}, err
		}
	}
	if err := sameDeclared(ctx, rs, d); err != nil {
		return RiskDeclaration{}, err
	}
	if d.Phase == RiskStart || d.Phase == RiskRecurrence {
		d.Late = date.FromTime(d.Received) > d.Day.AddDays(lateAfter)
	}
	data, _ := json.Marshal(struct {
		Employer string `json:"employer"`
		Risk     string `json:"risk"`
		Phase    string `json:"phase"`
	}{d.Employer, d.Risk, d.Phase})
	stored, err := rs.ApplyRisk(ctx, d, Mutation{Type: EventSocialRisk, Person: d.Person, Date: d.Day, Data: data})
	if fault.KindOf(err) == fault.Conflict {
		// The same declaration committed meanwhile (the store's unique key): name it.
		if serr := sameDeclared(ctx, rs, d); serr != nil {
			return RiskDeclaration{}, serr
		}
	}
	return stored, err
}

// Key is what makes two declarations the same one for a worker: employer, risk, phase,
// day and case (none for a start). The store keeps it unique per worker, so the same
// declaration sent twice at the same instant is taken once.
func (d RiskDeclaration) Key() string {
	c := d.Case
	if d.Phase == RiskStart {
		c = 0
	}
	return fmt.Sprintf("%s/%s/%s/%d/%d", d.Employer, d.Risk, d.Phase, int(d.Day), c)
}

// sameDeclared refuses a declaration received already (same worker, employer, risk,
// phase, day and case): sent twice, a start opened two cases (an outsider's finding).
func sameDeclared(ctx context.Context, rs RiskStore, d RiskDeclaration) error {
	known, err := rs.Risks(ctx, d.Person)
	if err != nil {
		return err
	}
	for _, k := range known {
		if k.Employer == d.Employer && k.Risk == d.Risk && k.Phase == d.Phase && k.Day == d.Day && (d.Phase == RiskStart || k.Case == d.Case) {
			return fault.Conflictf("day", "this %s of %s on %s was received already: declaration %d", d.Phase, d.Risk, d.Day, k.ID)
		}
	}
	return nil
}

// sameCase checks that the case a recurrence, continuation or end names is the same
// worker's, employer's and risk's, and not ended, and routes d where the case is.
func (s *Source) sameCase(ctx context.Context, rs RiskStore, d *RiskDeclaration) error {
	if d.Case <= 0 {
		return fault.Invalidf("case", "is required for a %s: the id the start's answer gave", d.Phase)
	}
	first, err := rs.Risk(ctx, d.Case)
	if fault.KindOf(err) == fault.NotFound {
		return fault.Invalidf("case", "no case %d of %s with %s", d.Case, d.Person, d.Employer)
	}
	if err != nil {
		return err
	}
	if first.Phase != RiskStart || first.Person != d.Person || first.Employer != d.Employer {
		return fault.Invalidf("case", "no case %d of %s with %s", d.Case, d.Person, d.Employer)
	}
	if first.Risk != d.Risk {
		return fault.Invalidf("risk", "case %d is a case of %s", d.Case, first.Risk)
	}
	all, err := rs.Risks(ctx, d.Person)
	if err != nil {
		return err
	}
	for _, r := range all {
		if r.Case == d.Case && r.Phase == RiskEnd {
			return fault.Conflictf("case", "case %d ended on %s", d.Case, r.Day)
		}
	}
	if d.Day < first.Day {
		return fault.Invalidf("day", "%s is before the case's start (%s)", d.Day, first.Day)
	}
	d.Institution = first.Institution // the institution that holds the case
	return nil
}

// check checks the declaration's own members against today.
func (d *RiskDeclaration) check(today date.Date) error {
	values, ok := Risks[d.Risk]
	if !ok {
		return fault.Invalidf("risk", "%q: use %s or %s", d.Risk, Incapacity, Unemployment)
	}
	if !slices.Contains([]string{RiskStart, RiskRecurrence, RiskContinuation, RiskEnd}, d.Phase) {
		return fault.Invalidf("phase", "%q: use %s, %s, %s or %s", d.Phase, RiskStart, RiskRecurrence, RiskContinuation, RiskEnd)
	}
	switch {
	case d.Day.IsZero():
		return fault.Invalidf("day", "is required (YYYY-MM-DD)")
	case d.Day > today.AddDays(31):
		return fault.Invalidf("day", "%s is more than a month ahead", d.Day)
	}
	specific, name, other := d.Cause, "cause", d.Reason
	if d.Risk == Unemployment {
		specific, name, other = d.Reason, "reason", d.Cause
	}
	if other != "" {
		return fault.Invalidf(map[string]string{"cause": "reason", "reason": "cause"}[name], "is not a member of a declaration of %s", d.Risk)
	}
	opening := d.Phase == RiskStart || d.Phase == RiskRecurrence
	switch {
	case opening && specific == "":
		return fault.Invalidf(name, "is required at a %s: use %s", d.Phase, strings.Join(values, ", "))
	case specific != "" && !slices.Contains(values, specific):
		return fault.Invalidf(name, "%q: use %s", specific, strings.Join(values, ", "))
	case d.Risk != Incapacity && !d.ExpectedEnd.IsZero():
		return fault.Invalidf("expected_end", "is a member of a declaration of incapacity")
	case !d.ExpectedEnd.IsZero() && d.ExpectedEnd < d.Day:
		return fault.Invalidf("expected_end", "%s is before the day (%s)", d.ExpectedEnd, d.Day)
	case d.HoursLost != 0 && d.Reason != "temporary":
		return fault.Invalidf("hours_lost", "is a member of a temporary unemployment")
	case d.HoursLost < 0 || d.HoursLost > 60:
		return fault.Invalidf("hours_lost", "%g: from 0 to 60 hours a week", d.HoursLost)
	case opening && d.Wages == nil:
		return fault.Invalidf("wages", "is required at a %s: the wages of the quarter not yet declared (from, to, wages, bonus, days, hours)", d.Phase)
	case !opening && d.Wages != nil:
		return fault.Invalidf("wages", "is given at a start or a recurrence only")
	}
	if d.Wages != nil {
		return d.Wages.check(d.Day)
	}
	return nil
}

// check holds the mini-declaration to the rules of a quarterly line: within one
// quarter, ending before the risk's day, amounts not negative, days and hours plausible.
func (w *RiskWages) check(day date.Date) error {
	switch {
	case w.From.IsZero() || w.To.IsZero():
		return fault.Invalidf("wages.from", "from and to are required (YYYY-MM-DD)")
	case w.To < w.From:
		return fault.Invalidf("wages.to", "%s is before from (%s)", w.To, w.From)
	case QuarterOf(w.From) != QuarterOf(w.To):
		return fault.Invalidf("wages.to", "from and to are within one quarter (%s)", QuarterOf(w.From))
	case w.To >= day:
		return fault.Invalidf("wages.to", "%s: the last day worked is before the risk's day (%s)", w.To, day)
	case w.Wages < 0 || w.Bonus < 0:
		return fault.Invalidf("wages.wages", "wages are not negative")
	}
	span := w.To.Time().Sub(w.From.Time())/(24*time.Hour) + 1
	switch {
	case w.Days < 0 || w.Days > int(span):
		return fault.Invalidf("wages.days", "%d: from 0 to the %d days from %s to %s", w.Days, span, w.From, w.To)
	case !(w.Hours >= 0 && w.Hours <= float64(maxHoursADay*w.Days)):
		return fault.Invalidf("wages.hours", "%g: from 0 to %d a day worked (%d days)", w.Hours, maxHoursADay, w.Days)
	}
	return nil
}

// Ack records that institution, competent for the declaration, took it in charge under
// its reference ref. Another institution learns nothing of it (fault.NotFound).
func (s *Source) Ack(ctx context.Context, institution string, id int64, ref string) (RiskDeclaration, error) {
	rs := s.Store
	if len(ref) > 100 || strings.ContainsFunc(ref, func(r rune) bool { return r < ' ' }) {
		return RiskDeclaration{}, fault.Invalidf("reference", "at most 100 printable characters")
	}
	return rs.AckRisk(ctx, id, institution, ref, s.now())
}

// RiskOf reads a declaration for institution: the one that declared it, or the one
// it was routed to. Anyone else learns nothing of it (fault.NotFound), nor does a
// declarer that lost the employer's mandate since.
func (s *Source) RiskOf(ctx context.Context, institution string, id int64) (RiskDeclaration, error) {
	rs := s.Store
	d, err := rs.Risk(ctx, id)
	if err != nil {
		return RiskDeclaration{}, err
	}
	if d.Institution == institution {
		return d, nil
	}
	if s.Mandates(ctx, institution, d.Employer) == nil {
		return d, nil
	}
	return RiskDeclaration{}, fault.NotFoundf("no social-risk declaration %d", id)
}

// Inbox lists the declarations routed to institution (status "" for any), by id after
// after, at most limit (1 to 1,000).
func (s *Source) Inbox(ctx context.Context, institution, status string, after int64, limit int) ([]RiskDeclaration, error) {
	rs := s.Store
	if status != "" && status != RiskSubmitted && status != RiskAcknowledged {
		return nil, fault.Invalidf("status", "%q: use %s or %s", status, RiskSubmitted, RiskAcknowledged)
	}
	if limit <= 0 || limit > 1000 {
		return nil, fault.Invalidf("limit", "%d: from 1 to 1000", limit)
	}
	return rs.RisksFor(ctx, institution, status, after, limit)
}

// String names a declaration in logs and audit reasons.
func (d RiskDeclaration) String() string {
	return fmt.Sprintf("%s %s of %s with %s", d.Risk, d.Phase, d.Person, d.Employer)
}
