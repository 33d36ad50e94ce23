package exchange

import (
	"slices"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// Ungranted returns the first attribute a filter or its order uses that fields (an
// authorization's grant) do not cover, "" when all are covered. A filter may see only
// what its answer could carry: otherwise it is an oracle, answering one guess at a time
// about a field the asker may not read (a birth date by a series of "born before").
// The person number may always be compared for equality (eq, in): the asker's scope is
// made of person numbers, and naming one is a look-up within it. Ranges of numbers and
// an order by them need `person` granted: a number encodes birth date and sex, so a
// series of "person le N" counts recovers the number of a person known by name.
func Ungranted(q query.Query, fields []string) string {
	var bad string
	var walk func(c *query.Cond)
	walk = func(c *query.Cond) {
		if c == nil || bad != "" {
			return
		}
		switch c.Op {
		case query.And, query.Or, query.Not:
			for _, a := range c.Args {
				walk(a)
			}
		case query.Eq, query.In:
			if c.Attr != "person" && !Covers(fields, c.Attr) {
				bad = c.Attr
			}
		default:
			if !Covers(fields, c.Attr) {
				bad = c.Attr
			}
		}
	}
	walk(q.Filter)
	for _, k := range q.Sort {
		if bad == "" && !Covers(fields, k.Attr) {
			bad = k.Attr
		}
	}
	return bad
}

// Covers reports whether fields grant the attribute attr ("address.region" is granted by
// "address" or "address.region").
func Covers(fields []string, attr string) bool {
	for i := len(attr); i > 0; i-- {
		if (i == len(attr) || attr[i] == '.') && slices.Contains(fields, attr[:i]) {
			return true
		}
	}
	return false
}

// personAttrs are the filter attributes whose values are person numbers.
var personAttrs = []string{"person", "mother", "father", "spouse", "uin"}

// Named returns the person numbers a question names: the identifier of a look-up by
// person number, the values a filter compares person attributes with. They are noted in
// the audit record whatever the outcome, so that the person finds the attempt.
func Named(q query.Query) []string {
	var out []string
	add := func(v string) {
		if pn, err := ident.ParsePerson(v); err == nil && !slices.Contains(out, pn.String()) && len(out) < maxNamed {
			out = append(out, pn.String())
		}
	}
	if q.Kind == query.KindID {
		add(q.IDValue)
		return out
	}
	var walk func(c *query.Cond)
	walk = func(c *query.Cond) {
		if c == nil {
			return
		}
		for _, a := range c.Args {
			walk(a)
		}
		if !slices.Contains(personAttrs, c.Attr) {
			return
		}
		switch v := c.Value.(type) {
		case string:
			add(v)
		case []string:
			for _, s := range v {
				add(s)
			}
		}
	}
	walk(q.Filter)
	return out
}

// NamedIn returns the persons the questions name (Named), each once, in order, at most
// maxNamed in all: those of a message refused as a whole, whose record must stay small
// whatever the message holds.
func NamedIn(qs []query.Query) []string {
	var out []string
	for _, q := range qs {
		for _, p := range Named(q) {
			if len(out) < maxNamed && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// maxNamed bounds the persons one record notes from a question (a filter's "in" lists
// hold at most query.MaxInValues values, and a filter query.MaxConds conditions).
const maxNamed = 256

// Reread decides whether an answer the hub gave earlier may be handed out again, as a
// transaction status carrying a stored answer does: it is an exchange like the search
// that made it, decided today and sealed by the caller. The authorization must be in
// force today for the original question (its purpose and fields, about the day it
// concerned), cover every field the stored records carry, and the asker must still hold
// a file on every person they concern. persons are those persons, carried the fields
// the stored records hold; records without a person number (unkeyed) cannot be checked,
// so an authorization that needs a file refuses them.
func (x *Exchange) Reread(ask Ask, persons []string, carried []string, unkeyed bool) Answer {
	today := date.FromTime(x.now())
	if ask.Day.IsZero() {
		ask.Day = today
	}
	p := x.policy.Load()
	d := p.Decide(Question{Institution: ask.Caller.Institution, Service: ask.Service, Purpose: ask.Purpose, Fields: ask.Fields, Today: today, Day: ask.Day})
	ans := Answer{Decision: d, Persons: persons}
	if !d.Permit {
		return refuse(ans, d.Reasons[0])
	}
	for _, f := range carried {
		if !Covers(d.Fields, f) {
			ans.Decision = deny(DenyFields, "the stored answer carries field %s, which the authorization no longer grants", clip(f))
			return refuse(ans, ans.Decision.Reasons[0])
		}
	}
	if unkeyed && len(d.Capacities) > 0 {
		ans.Decision = deny(DenyPerson, "the stored answer holds records without a person number, which cannot be checked against the person directory")
		return refuse(ans, ans.Decision.Reasons[0])
	}
	for _, person := range persons {
		if ok, why := p.Permits(d, ask.Caller.Institution, person, ask.Day); !ok {
			ans.Decision.Permit, ans.Decision.Code = false, DenyPerson
			return refuse(ans, why)
		}
	}
	ans.Decision.Reasons = append(ans.Decision.Reasons, "a stored answer handed out again")
	ans.Status = 200
	return ans
}
