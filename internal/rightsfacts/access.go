package rightsfacts

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/rights"
)

// Access serves decisions to institutions: a decision on a right, and its explanation,
// go only to an institution the exchange's policy authorizes on the rights service
// under that right's purpose (right:<id>), for the fields asked (rights, explanation),
// and every answer and refusal is sealed in the audit log, naming the person.
type Access struct {
	Engine   *rights.Engine
	Exchange *exchange.Exchange
	Service  string // the rights service's id in the directory
}

// PersonRights is what an institution reads of a person's rights: the latest decision
// of each right it is authorized for that has one.
type PersonRights struct {
	Person    string            `json:"person"`
	Decisions []rights.Decision `json:"decisions"`
}

// Rights returns the person's current decisions on the rights caller is authorized for.
// An institution authorized for none is refused (and the refusal recorded).
func (a *Access) Rights(ctx context.Context, caller exchange.Caller, person string, request []byte) (PersonRights, error) {
	number, err := personNumber(person)
	if err != nil {
		return PersonRights{}, err
	}
	today := date.FromTime(time.Now())
	var allowed []string
	var refusal exchange.Decision
	p := a.Exchange.Policy()
	for _, r := range a.Engine.Catalogue().Rules() {
		d := p.Decide(exchange.Question{Institution: caller.Institution, Service: a.Service, Purpose: Purpose(r.ID), Fields: []string{"rights"}, Today: today})
		if d.Permit && len(d.Capacities) > 0 {
			d.Permit, d.Reasons = false, append(d.Reasons, "an authorization limited to persons on file cannot be checked here")
		}
		if d.Permit {
			allowed = append(allowed, r.ID)
		} else if refusal.Reasons == nil {
			refusal = d
		}
	}
	ask := exchange.Ask{Caller: caller, Service: a.Service, Fields: []string{"rights"}, Request: request, Start: time.Now()}
	if len(allowed) == 0 {
		refusal.Reasons = append([]string{caller.Institution + " holds no authorization on the decisions of any right"}, refusal.Reasons...)
		return PersonRights{}, a.refuse(ctx, ask, refusal, number)
	}
	if !p.HasFile(caller.Institution, number, today) {
		return PersonRights{}, a.refuse(ctx, ask, noFile(caller.Institution), number)
	}
	hist, err := a.Engine.Store.History(ctx, number)
	if err != nil {
		return PersonRights{}, err
	}
	out := PersonRights{Person: number, Decisions: []rights.Decision{}}
	latest := map[string]int{}
	for _, d := range hist {
		if !contains(allowed, d.Right) {
			continue
		}
		if i, ok := latest[d.Right]; ok {
			out.Decisions[i] = d
			continue
		}
		latest[d.Right] = len(out.Decisions)
		out.Decisions = append(out.Decisions, d)
	}
	ask.Purpose = "rights: " + joinPurposes(allowed)
	body, _ := json.Marshal(out)
	ans := exchange.Answer{Decision: exchange.Decision{Permit: true, Reasons: []string{"authorized for " + joinPurposes(allowed)}, Fields: []string{"rights"}},
		Persons: []string{number}, Status: 200}
	if _, err := a.Exchange.Seal(ctx, ask, ans, body); err != nil {
		return PersonRights{}, err
	}
	return out, nil
}

// Explanation returns the explanation of one right for the person, to an institution
// authorized for that right's decisions with the field explanation.
func (a *Access) Explanation(ctx context.Context, caller exchange.Caller, person, right string, day date.Date, request []byte) (rights.Explanation, error) {
	number, err := personNumber(person)
	if err != nil {
		return rights.Explanation{}, err
	}
	if a.Engine.Catalogue().Rule(right) == nil {
		return rights.Explanation{}, fault.NotFoundf("no right %q in the catalogue", clipText(right))
	}
	today := date.FromTime(time.Now())
	if day.IsZero() {
		day = today
	}
	fields := []string{"explanation"}
	ask := exchange.Ask{Caller: caller, Service: a.Service, Purpose: Purpose(right), Fields: fields, Day: day, Request: request, Start: time.Now()}
	d := a.Exchange.Policy().Decide(exchange.Question{Institution: caller.Institution, Service: a.Service, Purpose: Purpose(right), Fields: fields, Today: today, Day: day})
	if d.Permit && len(d.Capacities) > 0 {
		d.Permit, d.Reasons = false, append(d.Reasons, "an authorization limited to persons on file cannot be checked here")
	}
	if !d.Permit {
		return rights.Explanation{}, a.refuse(ctx, ask, d, number)
	}
	if !a.Exchange.Policy().HasFile(caller.Institution, number, day) {
		return rights.Explanation{}, a.refuse(ctx, ask, noFile(caller.Institution), number)
	}
	ex, err := a.Engine.Explain(ctx, number, right, day)
	if fault.KindOf(err) == fault.NotFound { // answered as for someone else's person
		return rights.Explanation{}, a.refuse(ctx, ask, noFile(caller.Institution), number)
	}
	if err != nil {
		return rights.Explanation{}, err
	}
	body, _ := json.Marshal(ex)
	if _, err := a.Exchange.Seal(ctx, ask, exchange.Answer{Decision: d, Persons: []string{number}, Status: 200}, body); err != nil {
		return rights.Explanation{}, err
	}
	return ex, nil
}

// noFile is the refusal of an institution without a file on the person: worded alike
// for a person of the register and for a number nobody holds.
func noFile(institution string) exchange.Decision {
	return exchange.Decision{Reasons: []string{institution + " has no file on this person"}}
}

// refuse seals a refusal naming the person and returns it as Forbidden.
func (a *Access) refuse(ctx context.Context, ask exchange.Ask, d exchange.Decision, person string) error {
	d.Permit = false
	if len(d.Reasons) == 0 {
		d.Reasons = []string{"not authorized"}
	}
	err := fault.Forbiddenf("%s", d.Reasons[0])
	ans := exchange.Answer{Decision: d, Persons: []string{person}, Status: 403, Err: err}
	sum := sha256.Sum256([]byte(err.Error()))
	if _, serr := a.Exchange.Seal(ctx, ask, ans, sum[:]); serr != nil {
		return serr
	}
	return err
}

func personNumber(s string) (string, error) {
	p, err := ident.ParsePerson(s)
	if err != nil {
		return "", fault.Invalidf("person", "%q is not a person number", clipText(s))
	}
	return p.String(), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func joinPurposes(ids []string) string {
	out := ""
	for i, id := range ids {
		if i > 0 {
			out += ", "
		}
		out += Purpose(id)
	}
	return out
}

func clipText(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
