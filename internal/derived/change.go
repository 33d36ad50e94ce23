package derived

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// Changes declared to the derived registries. Each is recorded as an event of the
// built-in sources' event log (population.Store.Record: the event is written in the
// transaction that checks it, so the log is the registries' outbox as it is the civil
// register's), and from its date on it overrides what the registry derives: a declared
// income replaces the drawn one, a declared assessment the drawn functional domains, a
// declared enrolment or exit the derived programme.
const (
	EventEmploymentStart = "employment_start" // social registry: a hire, declared by the employer
	EventEmploymentEnd   = "employment_end"   // social registry: the end of that employment
	EventIncome          = "income"           // social registry: the person's monthly income
	EventDisability      = "disability"       // disability registry: an assessment of the six functional domains
	EventEnrolment       = "enrolment"        // beneficiary registry: an enrolment in a programme, or its end
)

// EventRegistry names the registry each change belongs to.
var EventRegistry = map[string]string{
	EventEmploymentStart: Social, EventEmploymentEnd: Social, EventIncome: Social,
	EventDisability: Disability, EventEnrolment: Beneficiary,
}

// WireEventType is how the registry's DCI document names a change of type typ in a
// notify (data.reg_event_type): the social and disability registries' documents allow
// only REGISTER (a new or updated registration), the beneficiary registry's enrolment
// and status change. facts is the change's event data.
func WireEventType(typ string, facts []byte) string {
	switch EventRegistry[typ] {
	case Social, Disability:
		return "REGISTER"
	case Beneficiary:
		var f Facts
		if json.Unmarshal(facts, &f) == nil && f.Status == Active {
			return "enrollement" // sic, as the document spells it
		}
		return "enrollement_status_change"
	}
	return typ
}

// Programmes are the programmes of the beneficiary registry.
var Programmes = []string{"child-benefit", "old-age-pension", "cash-transfer", "unemployment-benefit", "disability-allowance"}

// Enrolment statuses.
const (
	Active = "active"
	Ended  = "ended"
)

// Change is a change declared to a derived registry.
type Change struct {
	Type   string    `json:"type"`
	Person string    `json:"person"`
	Date   date.Date `json:"date"` // when it took effect; not after today
	Facts
}

// Facts are what a change declares; each type takes its own, and no other.
type Facts struct {
	Employer          string            `json:"employer,omitempty"`           // employment_start, employment_end: enterprise number
	MonthlyIncome     *int              `json:"monthly_income,omitempty"`     // income
	FunctionalDomains map[string]string `json:"functional_domains,omitempty"` // disability: a level for each of the six domains
	Programme         string            `json:"programme,omitempty"`          // enrolment
	Status            string            `json:"status,omitempty"`             // enrolment: active or ended
	MonthlyAmount     *int              `json:"monthly_amount,omitempty"`     // enrolment, active
}

// given lists the facts set, by their JSON names.
func (f *Facts) given() []string {
	var out []string
	for _, x := range []struct {
		name string
		set  bool
	}{{"employer", f.Employer != ""}, {"monthly_income", f.MonthlyIncome != nil}, {"functional_domains", f.FunctionalDomains != nil},
		{"programme", f.Programme != ""}, {"status", f.Status != ""}, {"monthly_amount", f.MonthlyAmount != nil}} {
		if x.set {
			out = append(out, x.name)
		}
	}
	return out
}

// takes lists the facts each type of change takes.
var takes = map[string][]string{
	EventEmploymentStart: {"employer"}, EventEmploymentEnd: {"employer"}, EventIncome: {"monthly_income"},
	EventDisability: {"functional_domains"}, EventEnrolment: {"programme", "status", "monthly_amount"},
}

// Limits of declared amounts, in the nation's currency a month.
const (
	maxIncome = 1_000_000
	maxAmount = 100_000
)

// RecordChange checks c (the field at fault named in the error) and records it in this
// registry; today bounds its date. A deceased person's record takes no change (conflict),
// nor does an employment that is already declared, or one that is not, ended.
func (s *Source) RecordChange(ctx context.Context, c Change, today date.Date) (population.Event, error) {
	if EventRegistry[c.Type] != s.Kind {
		var types []string
		for t, k := range EventRegistry {
			if k == s.Kind {
				types = append(types, t)
			}
		}
		slices.Sort(types)
		if len(types) == 0 {
			return population.Event{}, fault.Invalidf("type", "the %s registry records no changes here", s.Kind)
		}
		return population.Event{}, fault.Invalidf("type", "%q is not a change the %s registry records: use %s", c.Type, s.Kind, strings.Join(types, ", "))
	}
	number, err := population.CheckDeclared(c.Person, c.Date, today)
	if err != nil {
		return population.Event{}, err
	}
	for _, f := range c.given() {
		if !slices.Contains(takes[c.Type], f) {
			return population.Event{}, fault.Invalidf(f, "is not part of a change of type %s", c.Type)
		}
	}
	if err := c.check(); err != nil {
		return population.Event{}, err
	}
	// What the registry holds is checked before the transaction: reading inside it would
	// take a second connection from a pool the transactions may hold. Two declarations
	// about one person at the same instant may then both pass; the log keeps both, and
	// the registry reads them in order (a repeated hire is one employment).
	p, err := s.Store.Person(ctx, number)
	if err != nil {
		return population.Event{}, err
	}
	if err := s.checkState(ctx, &p, c); err != nil {
		return population.Event{}, err
	}
	data, _ := json.Marshal(c.Facts)
	ev := population.Event{Type: c.Type, Person: number, Date: c.Date, Data: data}
	return s.Store.Record(ctx, ev, func(p *population.Person) error {
		switch {
		case !p.DeathDate.IsZero():
			return fault.Conflictf("person", "%s died on %s: the record is closed", p.Number, p.DeathDate)
		case c.Date < p.BirthDate:
			return fault.Invalidf("date", "%s is before the person's birth (%s)", c.Date, p.BirthDate)
		}
		p.RegistryChanges++
		return nil
	})
}

// check checks the facts of c for its type.
func (c *Change) check() error {
	switch c.Type {
	case EventEmploymentStart, EventEmploymentEnd:
		if _, err := ident.ParseEnterprise(c.Employer); err != nil {
			return fault.Invalidf("employer", "an enterprise number is required: %v", err)
		}
	case EventIncome:
		if c.MonthlyIncome == nil || *c.MonthlyIncome < 0 || *c.MonthlyIncome > maxIncome {
			return fault.Invalidf("monthly_income", "is required, from 0 to %d", maxIncome)
		}
	case EventDisability:
		if len(c.FunctionalDomains) == 0 {
			return fault.Invalidf("functional_domains", "is required: a level for each of %s", strings.Join(wgDomains, ", "))
		}
		for d, level := range c.FunctionalDomains {
			if !slices.Contains(wgDomains, d) {
				return fault.Invalidf("functional_domains."+d, "is not a domain of the Washington Group short set: use %s", strings.Join(wgDomains, ", "))
			}
			if !slices.Contains(wgLevels, level) {
				return fault.Invalidf("functional_domains."+d, "%q is not a level: use %s", level, strings.Join(wgLevels, ", "))
			}
		}
		for _, d := range wgDomains {
			if _, ok := c.FunctionalDomains[d]; !ok {
				return fault.Invalidf("functional_domains."+d, "is required: an assessment covers the six domains")
			}
		}
	case EventEnrolment:
		if !slices.Contains(Programmes, c.Programme) {
			return fault.Invalidf("programme", "%q is not a programme of the registry: use %s", c.Programme, strings.Join(Programmes, ", "))
		}
		switch c.Status {
		case Active:
			if c.MonthlyAmount == nil || *c.MonthlyAmount < 0 || *c.MonthlyAmount > maxAmount {
				return fault.Invalidf("monthly_amount", "is required for an enrolment, from 0 to %d", maxAmount)
			}
		case Ended:
			if c.MonthlyAmount != nil {
				return fault.Invalidf("monthly_amount", "is not part of the end of an enrolment")
			}
		default:
			return fault.Invalidf("status", "%q: use %s or %s", c.Status, Active, Ended)
		}
	}
	return nil
}

// checkState checks c against what the registry holds of p on c's date: a hire by an
// employer the person already works for, or the end of an employment not declared, or an
// enrolment ended that is not active, is a conflict.
func (s *Source) checkState(ctx context.Context, p *population.Person, c Change) error {
	switch c.Type {
	case EventEmploymentStart, EventEmploymentEnd:
		decl, err := s.declared(ctx, c.Date, allChanges, p)
		if err != nil {
			return err
		}
		since, employed := decl[p.Number].employers[c.Employer]
		if c.Type == EventEmploymentStart && employed {
			return fault.Conflictf("employer", "%s has worked for %s since %s", p.Number, c.Employer, since)
		}
		if c.Type == EventEmploymentEnd && !employed {
			return fault.Conflictf("employer", "no employment of %s by %s is declared on %s", p.Number, c.Employer, c.Date)
		}
	case EventEnrolment:
		if c.Status != Ended {
			return nil
		}
		rec, err := s.record(ctx, p, c.Date, allChanges)
		if err != nil {
			return err
		}
		progs, _ := rec["programmes"].([]any)
		for _, pr := range progs {
			if m, _ := pr.(map[string]any); m["programme"] == c.Programme && m["status"] == Active {
				return nil
			}
		}
		return fault.Conflictf("programme", "%s is not enrolled in %s on %s", p.Number, c.Programme, c.Date)
	}
	return nil
}

// declared is what has been declared to the registries about one person, up to a day.
type declared struct {
	income     *int
	incomeDate date.Date            // the day the income declared took effect
	employers  map[string]date.Date // the employments in force, by employer: since
	employment date.Date            // the day of the last hire or end
	domains    map[string]string
	assessed   date.Date
	enrolments map[string]enrolment // by programme, the last change
}

type enrolment struct {
	status        string
	since, ended  date.Date
	monthlyAmount int
}

// declared reads the changes declared about persons (at most
// population.MaxEventPersons) that took effect on or before day and were recorded up to
// seq upTo, in the order they were recorded; every person has an entry.
func (s *Source) declared(ctx context.Context, day date.Date, upTo int64, persons ...*population.Person) (map[string]*declared, error) {
	out := make(map[string]*declared, len(persons))
	var read []string // those with changes declared: the others' events are not read
	for _, p := range persons {
		if out[p.Number] == nil && p.RegistryChanges > 0 {
			read = append(read, p.Number)
		}
		out[p.Number] = &declared{}
	}
	if len(read) == 0 {
		return out, nil
	}
	evs, err := s.Store.Events(ctx, read...)
	if err != nil {
		return nil, err
	}
	for _, ev := range evs {
		if EventRegistry[ev.Type] == "" || ev.Date > day || ev.Seq > upTo || out[ev.Person] == nil {
			continue
		}
		var f Facts
		if err := json.Unmarshal(ev.Data, &f); err != nil {
			return nil, fault.Wrap(fmt.Errorf("event %d: %w", ev.Seq, err), "read a declared change")
		}
		out[ev.Person].apply(ev.Type, ev.Date, &f)
	}
	return out, nil
}

// apply takes one declared change into d.
func (d *declared) apply(typ string, day date.Date, f *Facts) {
	switch typ {
	case EventEmploymentStart:
		if d.employers == nil {
			d.employers = map[string]date.Date{}
		}
		if _, ok := d.employers[f.Employer]; !ok {
			d.employers[f.Employer] = day
		}
		d.employment = day
	case EventEmploymentEnd:
		delete(d.employers, f.Employer)
		d.employment = day
	case EventIncome:
		d.income, d.incomeDate = f.MonthlyIncome, day
	case EventDisability:
		d.domains, d.assessed = f.FunctionalDomains, day
	case EventEnrolment:
		if d.enrolments == nil {
			d.enrolments = map[string]enrolment{}
		}
		e := d.enrolments[f.Programme]
		if f.Status == Active {
			e = enrolment{status: Active, since: day}
			if f.MonthlyAmount != nil {
				e.monthlyAmount = *f.MonthlyAmount
			}
		} else {
			e.status, e.ended = Ended, day
		}
		d.enrolments[f.Programme] = e
	}
}
