package exchange

import (
	"fmt"
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
)

// Decision is the outcome of the policy decision, with the evidence for it.
type Decision struct {
	Permit        bool
	Authorization string   // the authorization that permits, if any
	Fields        []string // the fields the answer may carry
	Capacities    []string // the capacities the authorization accepts; empty: no person check
	Identify      []string // an identification's fields (directory.Authorization.Identify)
	Reasons       []string // why, in words, for the audit log and the caller
	Code          string   // a short reason code when denied
}

// Deny reason codes.
const (
	DenyNoAuthorization = "no_authorization" // nothing for this institution and service
	DenyExpired         = "not_in_force"     // authorizations exist but none on the day
	DenyPurpose         = "purpose_not_granted"
	DenyFields          = "field_not_authorized"
	DenyPerson          = "person_not_in_directory"
	DenyInvalid         = "invalid_question" // the question itself is malformed
	DenyDay             = "day_not_granted"  // asked about a day the authorization does not reach back to
)

// Question is what the decision needs to know about a request.
type Question struct {
	Institution string
	Service     string
	Purpose     string   // authorization id or purpose text; "" accepts any in force
	Fields      []string // fields asked for; empty: all the authorization covers
	// Today is the day the question is asked: the authorization must be in force then.
	// Zero: Day.
	Today date.Date
	// Day is the day the question is about (header.meta.on_date): today, or a past day
	// no further back than the authorization's LookbackDays. Zero: Today.
	Day date.Date
}

// Decide chooses the authorization that permits q, trying those of the institution
// for the service in id order; it denies by default, saying which condition failed.
// The person check is separate (Permits), because a question may concern many persons.
func (p *Policy) Decide(q Question) Decision {
	if q.Today.IsZero() {
		q.Today = q.Day
	}
	if q.Day.IsZero() {
		q.Day = q.Today
	}
	if q.Day > q.Today {
		return deny(DenyDay, "the question is about %s, a day after today (%s)", q.Day, q.Today)
	}
	cands := p.lookup(q.Institution, q.Service)
	if len(cands) == 0 {
		return deny(DenyNoAuthorization, "institution %s holds no authorization for service %s", q.Institution, q.Service)
	}
	var inForce, forPurpose, forDay int
	var missing string
	for _, a := range cands {
		// An authorization of the rights engine (purpose right:<id>) serves the questions
		// that name its purpose only (the engine's, #19), never another question.
		// So does an identification (Authorization.Identify): a question that does not
		// name its purpose is never answered under it.
		if !a.ValidOn(q.Today) || ((IsEnginePurpose(a.Purpose) || len(a.Identify) > 0) && !strings.EqualFold(q.Purpose, a.Purpose) && q.Purpose != a.ID) {
			continue
		}
		inForce++
		if q.Purpose != "" && q.Purpose != a.ID && !strings.EqualFold(q.Purpose, a.Purpose) {
			continue
		}
		forPurpose++
		if q.Day < q.Today.AddDays(-a.LookbackDays) {
			continue
		}
		forDay++
		fields, bad := grant(a.Fields, q.Fields)
		if bad != "" {
			missing = bad
			continue
		}
		why := "authorization " + a.ID + " (" + a.Decision + ") in force on " + q.Today.String()
		if q.Day != q.Today {
			why += ", about " + q.Day.String()
		}
		return Decision{Permit: true, Authorization: a.ID, Fields: fields, Capacities: a.Capacities, Identify: a.Identify, Reasons: []string{why}}
	}
	switch {
	case inForce == 0:
		return deny(DenyExpired, "no authorization of %s for %s is in force on %s", q.Institution, q.Service, q.Today)
	case forPurpose == 0:
		return deny(DenyPurpose, "purpose %q is not granted to %s for %s", clip(q.Purpose), q.Institution, q.Service)
	case forDay == 0:
		return deny(DenyDay, "no authorization of %s for %s reaches back to %s", q.Institution, q.Service, q.Day)
	}
	return deny(DenyFields, "field %s is not authorized for %s on %s", clip(missing), q.Institution, q.Service)
}

// grant returns the fields the answer may carry: those asked for, or all authorized when
// none are asked; bad names the first field asked for that is not authorized.
func grant(authorized, asked []string) (fields []string, bad string) {
	if len(asked) == 0 {
		return authorized, ""
	}
	for _, f := range asked {
		if !slices.Contains(authorized, f) {
			return nil, f
		}
	}
	return asked, ""
}

func deny(code, format string, args ...any) Decision {
	return Decision{Code: code, Reasons: []string{fmt.Sprintf(format, args...)}}
}

// Permits checks the person condition of a permit: the asker's institution must hold a
// file on person on day in a capacity the authorization accepts. It returns the reason.
func (p *Policy) Permits(d Decision, institution, person string, day date.Date) (bool, string) {
	if !d.Permit {
		return false, "denied"
	}
	if len(d.Capacities) == 0 {
		return true, "the authorization needs no file on the person"
	}
	g, ok := p.index.Holds(person, institution, d.Capacities, day)
	if !ok {
		return false, institution + " has no file on person " + person + " in capacity " + strings.Join(d.Capacities, "/") + " on " + day.String()
	}
	return true, "file of " + institution + " on " + person + " in capacity " + g.Capacity + " since " + g.Begin.String()
}

// Policy holds what decisions are made from: the authorizations, by institution and
// service, and the person-directory index.
type Policy struct {
	index *directory.Index
	auths map[string][]directory.Authorization // institution + "\x00" + service → sorted by id
}

// NewPolicy builds a policy from authorizations and a person-directory index.
func NewPolicy(auths []directory.Authorization, index *directory.Index) *Policy {
	p := &Policy{index: index, auths: map[string][]directory.Authorization{}}
	for _, a := range auths {
		k := a.Institution + "\x00" + a.Service
		p.auths[k] = append(p.auths[k], a)
	}
	for _, list := range p.auths {
		slices.SortFunc(list, func(a, b directory.Authorization) int { return strings.Compare(a.ID, b.ID) })
	}
	return p
}

func (p *Policy) lookup(institution, service string) []directory.Authorization {
	return p.auths[institution+"\x00"+service]
}

// EnginePurposePrefix begins the purposes of the rights engine's authorizations: the
// reads of a right's facts and its decisions (right:<id>).
const EnginePurposePrefix = "right:"

// IsEnginePurpose reports whether purpose is reserved to the rights engine.
func IsEnginePurpose(purpose string) bool {
	return len(purpose) >= len(EnginePurposePrefix) && strings.EqualFold(purpose[:len(EnginePurposePrefix)], EnginePurposePrefix)
}

// HasFile reports whether institution holds a file on person on day, in any capacity:
// the least an institution must have to read what the hub derived about a person (the
// rights engine's decisions), whatever its authorization's capacities.
func (p *Policy) HasFile(institution, person string, day date.Date) bool {
	if p.index == nil {
		return false
	}
	for _, g := range p.index.Files(person, day) {
		if g.Institution == institution {
			return true
		}
	}
	return false
}
