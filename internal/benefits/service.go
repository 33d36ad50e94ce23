package benefits

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/rights"
)

// CodeNotGranted marks the refusal of a report for a person whose decision for the right
// is not granted on the day (HTTP 422: the input is well formed, the facts say no).
const CodeNotGranted = "benefit.not_granted"

// Service checks, stores and seals the reports; the professional pages and the API
// both go through it.
type Service struct {
	Store Store
	// Grantor is the institution granting right in the rights catalogue (false: no such right).
	Grantor func(right string) (institution string, ok bool)
	// Decision is the person's decision on right in force on day (nil: none).
	Decision func(ctx context.Context, person, right string, day date.Date) (*rights.Decision, error)
	// Seal records an exchange in the audit log (exchange.Exchange.Seal).
	Seal func(ctx context.Context, ask exchange.Ask, ans exchange.Answer, response []byte) (int64, error)
	Now  func() time.Time
}

// Result is the outcome of a report accepted.
type Result struct {
	Report Report `json:"report"`
	Again  bool   `json:"again,omitempty"` // the same change was made before: nothing stored
	Audit  int64  `json:"audit"`           // the audit record of this attempt
}

// Submit checks the report of the application by (its institution the reporter),
// stores it and seals the attempt in the audit log under the person, refused or not;
// raw is the request as received (its hash is recorded). A refusal is returned with its
// audit record's number in the Result.
func (s *Service) Submit(ctx context.Context, by exchange.Caller, in Input, raw []byte) (Result, error) {
	start := s.Now()
	if in.Action == "" {
		in.Action = Reported
	}
	res, err := s.submit(ctx, by, in)
	seq, serr := s.seal(ctx, by, in, raw, res, err, start)
	if serr != nil {
		return Result{}, serr
	}
	res.Audit = seq
	if err != nil {
		return Result{Audit: seq}, err
	}
	return res, nil
}

// Refused seals the refusal of a report the caller could not even read (a date that is
// no date), as Submit seals its own, and returns the record's number.
func (s *Service) Refused(ctx context.Context, by exchange.Caller, in Input, raw []byte, err error) (int64, error) {
	return s.seal(ctx, by, in, raw, Result{}, err, s.Now())
}

// seal records an attempt under the person it names (a refused one too, when it names
// a valid person number, for that person to find it).
func (s *Service) seal(ctx context.Context, by exchange.Caller, in Input, raw []byte, res Result, err error, start time.Time) (int64, error) {
	person := res.Report.Person
	if p := strings.TrimSpace(in.Person); person == "" && ident.ValidPerson(p) {
		person = p
	}
	ans := exchange.Answer{Status: statusCreated, Decision: exchange.Decision{Permit: true,
		Reasons: []string{"reported by " + by.Institution + ", which grants " + res.Report.Right}}}
	if res.Again {
		ans.Status, ans.Decision.Reasons = statusOK, []string{"the same " + in.Action + " made before: nothing stored"}
	}
	if err != nil {
		ans = exchange.Answer{Status: StatusOf(err), Err: err, Decision: exchange.Decision{Reasons: []string{safe(err)}, Code: "benefit." + fault.KindOf(err).String()}}
	}
	if person != "" {
		ans.Persons = []string{person}
	}
	body, _ := json.Marshal(res)
	if err != nil {
		body, _ = json.Marshal(map[string]string{"error": safe(err)})
	}
	purpose := "benefit." + in.Action
	if in.Action != Reported && in.Action != Corrected && in.Action != Ended {
		purpose = "benefit.unknown" // the caller's word is not written as a purpose
	}
	ask := exchange.Ask{Caller: by, Service: AuditService, Purpose: purpose, Request: raw, Start: start}
	return s.Seal(ctx, ask, ans, body)
}

// The HTTP statuses the audit records and the callers use (the package speaks no
// HTTP: the numbers are the exchange's, as in exchange.Answer).
const (
	statusOK            = 200
	statusCreated       = 201
	statusInvalid       = 400
	statusForbidden     = 403
	statusNotFound      = 404
	statusConflict      = 409
	statusTooLarge      = 413
	statusUnprocessable = 422
	statusInternal      = 500
	statusUnavailable   = 503
)

// StatusOf is the HTTP status of a refusal: 422 for a person without the right on the
// day, else the kind's.
func StatusOf(err error) int {
	if fault.CodeOf(err) == CodeNotGranted {
		return statusUnprocessable
	}
	switch fault.KindOf(err) {
	case fault.Invalid:
		return statusInvalid
	case fault.Forbidden:
		return statusForbidden
	case fault.NotFound:
		return statusNotFound
	case fault.Conflict:
		return statusConflict
	case fault.TooLarge:
		return statusTooLarge
	case fault.Unavailable:
		return statusUnavailable
	}
	return statusInternal
}

// safe is the message a refusal shows: the field and why, never a cause.
func safe(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) && fe.Kind != fault.Internal {
		if fe.Field != "" {
			return fe.Field + ": " + fe.Msg
		}
		return fe.Msg
	}
	return "the report could not be recorded"
}

func (s *Service) submit(ctx context.Context, by exchange.Caller, in Input) (Result, error) {
	if err := in.Check(); err != nil {
		return Result{}, err
	}
	if by.Institution == "" || by.Institution == exchange.SelfInstitution {
		return Result{}, fault.Forbiddenf("only an application of the institution granting the right may report a benefit")
	}
	versions, err := s.Store.Versions(ctx, by.Institution, in.Reference)
	if err != nil {
		return Result{}, err
	}
	next := Report{Institution: by.Institution, Reference: in.Reference, Version: len(versions) + 1, Action: in.Action,
		Person: in.Person, Right: in.Right, Benefit: in.Benefit, From: in.From, Until: in.Until, Client: by.ClientID}
	var last *Report
	if n := len(versions); n > 0 {
		last = &versions[n-1]
	}
	switch {
	case in.Action == Reported && last != nil:
		if last.Version == 1 && last.same(next) {
			return Result{Report: *last, Again: true}, nil
		}
		return Result{}, fault.Conflictf("reference", "%q already reports a benefit (version %d): correct or end it", clip(in.Reference), last.Version)
	case in.Action != Reported && last == nil:
		return Result{}, &fault.Error{Kind: fault.NotFound, Field: "reference", Msg: "no benefit of yours is reported under this reference"}
	case in.Action == Ended:
		next.Person, next.Right, next.Benefit, next.From = last.Person, last.Right, last.Benefit, last.From
		if next.Until < next.From {
			return Result{}, fault.Invalidf("until", "%s is before the first day, %s", next.Until, next.From)
		}
	case in.Action == Corrected && (in.Person != last.Person || in.Right != last.Right):
		return Result{}, fault.Invalidf("person", "a correction keeps the person and the right; report another benefit under a new reference")
	}
	if limit := date.FromTime(s.Now()).AddDays(MaxAhead); in.Action != Ended && next.From > limit {
		return Result{}, fault.Invalidf("from", "%s is more than %d days after today: a benefit starts at the latest on %s", next.From, MaxAhead, limit)
	}
	if last != nil && last.Action == in.Action && last.same(next) {
		return Result{Report: *last, Again: true}, nil
	}
	if err := s.mayReport(ctx, by, next); err != nil {
		return Result{}, err
	}
	next.Recorded = s.Now().UTC()
	saved, err := s.Store.Append(ctx, next)
	if err != nil {
		return Result{}, err
	}
	return Result{Report: saved}, nil
}

// mayReport checks that by's institution grants the right and that the person's
// decision in force on the benefit's first day grants it.
func (s *Service) mayReport(ctx context.Context, by exchange.Caller, r Report) error {
	grantor, ok := s.Grantor(r.Right)
	if !ok {
		return fault.Invalidf("right", "%q is not a right of the catalogue", clip(r.Right))
	}
	if grantor != by.Institution {
		return &fault.Error{Kind: fault.Forbidden, Field: "right",
			Msg: by.Institution + " does not grant " + r.Right + ": only " + grantor + ", which grants it, may report its benefits"}
	}
	if r.Action == Ended {
		return nil // ending what one reported needs no right
	}
	d, err := s.Decision(ctx, r.Person, r.Right, r.From)
	if err != nil {
		return err
	}
	if d == nil || !d.Holds() {
		result := "no decision"
		if d != nil {
			result = "the decision in force is " + d.Result
		}
		return &fault.Error{Kind: fault.Invalid, Field: "from", Code: CodeNotGranted,
			Msg: "the person does not hold " + r.Right + " on " + r.From.String() + " (" + result + ")"}
	}
	return nil
}

// Mine lists the benefits reported about person, the latest version of each, for the
// person themselves (the portal): the reading is sealed in the audit log under SELF
// before anything is returned. client is the application reading for them.
func (s *Service) Mine(ctx context.Context, person, client string) ([]Report, error) {
	start := s.Now()
	all, err := s.Store.ByPerson(ctx, person)
	ans := exchange.Answer{Status: statusOK, Persons: []string{person},
		Decision: exchange.Decision{Permit: true, Fields: []string{"benefits"}, Reasons: []string{"the person read the benefits reported about them"}}}
	if err != nil {
		ans = exchange.Answer{Status: StatusOf(err), Persons: []string{person}, Err: err, Decision: exchange.Decision{Reasons: []string{safe(err)}}}
	}
	cur := Current(all)
	body, _ := json.Marshal(cur)
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: client, Institution: exchange.SelfInstitution}, Service: AuditService,
		Purpose: exchange.SelfPurpose, Start: start}
	ask.Request, _ = json.Marshal(map[string]string{"service": AuditService, "person": person})
	if _, serr := s.Seal(ctx, ask, ans, body); serr != nil {
		return nil, serr
	}
	return cur, err
}
