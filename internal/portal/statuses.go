package portal

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Status is one status or right of a person on a day, with the facts it rests on.
type Status struct {
	ID     string // stable: "vulnerable", "disabled", "programme:<name>"
	Key    string // message key of its name
	Detail string // what the key leaves out (a programme's name)
	Holds  bool
	Source string // the service it was read from
	Facts  []Fact
	Note   string // message key: why it could not be told (a registry that answers about today only)

	// A statute or right of the rights engine (ID "right:<id>"): its title (the
	// catalogue's words), the rule, the decision in force on the day (nil: none stored),
	// what the rule gives on the facts read now, and why it could not decide.
	Title     string
	Rule      *RuleView
	Decision  *DecisionView
	Evaluated bool
	Failure   string
	// Benefits are the additional benefits granting bodies reported for this right.
	Benefits []BenefitView
}

// Fact is one piece of data a status rests on; a right's facts say their source and
// date.
type Fact struct{ Name, Value, Source, Date string }

// Statuses computes a person's statuses on a day. RegistryStatuses reads them from the
// built-in registries; the rights engine (#19) is meant to take its place, behind this
// interface, with its decisions and their facts.
type Statuses interface {
	Statuses(ctx context.Context, person string, day date.Date) ([]Status, error)
}

// Registries names the services RegistryStatuses reads.
type Registries struct {
	Social, Disability, Beneficiary string
}

// Fetch reads a person's records from a service on a day, as that person, through the
// exchange (recorded in the audit log).
type Fetch func(ctx context.Context, person, service string, day date.Date) ([]map[string]any, error)

// RegistryStatuses are the statuses the derived registries hold: a vulnerable household
// (social registry), a recognised disability (disability registry), and each programme
// of the beneficiary registry.
type RegistryStatuses struct {
	Registries Registries
	Fetch      Fetch
}

// Statuses reads the three registries as the person.
func (s *RegistryStatuses) Statuses(ctx context.Context, person string, day date.Date) ([]Status, error) {
	var out []Status
	// The three registries are read at once: each read waits for its audit record.
	type reading struct {
		rec  map[string]any
		note string
		err  error
	}
	services := []string{s.Registries.Social, s.Registries.Disability, s.Registries.Beneficiary}
	readings := make([]reading, len(services))
	var wg sync.WaitGroup
	for i, service := range services {
		if service == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs, err := s.Fetch(ctx, person, service, day)
			switch {
			case fault.KindOf(err) == fault.Invalid: // a registry that answers about today only
				readings[i].note = "status.past"
			case err != nil:
				readings[i].err = err
			case len(recs) > 0:
				readings[i].rec = recs[0]
			}
		}()
	}
	wg.Wait()
	next := 0
	read := func(string) (map[string]any, string, error) {
		r := readings[next]
		next++
		return r.rec, r.note, r.err
	}
	rec, note, err := read(s.Registries.Social)
	if err != nil {
		return nil, err
	}
	if rec != nil || note != "" {
		st := Status{ID: "vulnerable", Key: "status.vulnerable", Source: s.Registries.Social, Note: note}
		if rec != nil {
			st.Holds = rec["vulnerable"] == true
			st.Facts = facts(rec, "poverty_score", "household.size", "household.monthly_income")
		}
		out = append(out, st)
	}
	if rec, note, err = read(s.Registries.Disability); err != nil {
		return nil, err
	}
	if rec != nil || note != "" {
		st := Status{ID: "disabled", Key: "status.disabled", Source: s.Registries.Disability, Note: note}
		if rec != nil {
			st.Holds = rec["disabled"] == true
			st.Facts = facts(rec, "severity", "assessment_date")
		}
		out = append(out, st)
	}
	if rec, note, err = read(s.Registries.Beneficiary); err != nil {
		return nil, err
	}
	if rec != nil {
		progs, _ := rec["programmes"].([]any)
		for _, pr := range progs {
			m, _ := pr.(map[string]any)
			name, _ := m["programme"].(string)
			if name == "" {
				continue
			}
			out = append(out, Status{ID: "programme:" + name, Key: "status.programme", Detail: name, Source: s.Registries.Beneficiary,
				Holds: m["status"] == "active", Facts: facts(m, "status", "enrolled_on", "ended_on", "monthly_amount")})
		}
	} else if note != "" {
		out = append(out, Status{ID: "programmes", Key: "status.programme", Source: s.Registries.Beneficiary, Note: note})
	}
	return out, nil
}

// facts picks the named fields of rec (a dotted name reads a nested object), those it has.
func facts(rec map[string]any, names ...string) []Fact {
	var out []Fact
	for _, n := range names {
		if v, ok := lookup(rec, n); ok {
			out = append(out, Fact{Name: n, Value: fmt.Sprint(v)})
		}
	}
	return out
}

func lookup(rec map[string]any, name string) (any, bool) {
	cur := any(rec)
	for part := range splitDots(name) {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok || cur == nil {
			return nil, false
		}
	}
	return cur, true
}

func splitDots(s string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for {
			i := slices.Index([]byte(s), '.')
			if i < 0 {
				yield(s)
				return
			}
			if !yield(s[:i]) {
				return
			}
			s = s[i+1:]
		}
	}
}

// find returns the status id among list.
func find(list []Status, id string) (Status, bool) {
	i := slices.IndexFunc(list, func(s Status) bool { return s.ID == id })
	if i < 0 {
		return Status{}, false
	}
	return list[i], true
}
