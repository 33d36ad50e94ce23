package synth

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// finish keeps what the pass keeps of the unit just drawn: persons and their events, or
// their person-directory lines.
func (g *gen) finish() {
	for _, h := range g.u.homes {
		for _, m := range h.members {
			g.event(population.EventBirth, m, m.born,
				"brn", m.BRN, "birth_place", m.BirthPlace, "mother", m.Mother, "father", m.Father)
			if a := h.addr; m.born < h.since {
				g.event(population.EventAddress, m, h.since, "street", a.Street, "house_number", a.HouseNumber,
					"postal_code", a.PostalCode, "municipality", a.Municipality, "region", a.Region)
			}
			g.files(h, m)
			if m.kept {
				g.kept++
				if g.pass == populationPass {
					g.persons = append(g.persons, m.Person)
				}
			}
			if m.died != 0 {
				g.sum.Deceased++
			}
		}
		g.sum.Persons += len(h.members)
	}
	g.childBenefit()
	g.events = append(g.events, g.u.events...)
	g.sum.Households += len(g.u.homes)
	members := 0
	for _, h := range g.u.homes {
		members += len(h.members)
	}
	g.arena.reset(members, len(g.u.homes))
	g.u = unit{homes: g.u.homes[:0], events: g.u.events[:0], kids: g.u.kids[:0]}
}

// files adds the person-directory lines of m: the household's health insurer from birth,
// the municipality while alive, the pension fund from 65, and work or job seeking.
// Files of the deceased end on the day of death.
func (g *gen) files(h *home, m *member) {
	g.line(m, h.insurer, CapacityMember, m.born, m.died)
	if m.died == 0 {
		g.line(m, g.net.cities[h.region], CapacityMember, max(m.born, h.since), 0)
	}
	if p := anniversary(m.born, 65); p <= g.today && (m.died == 0 || p <= m.died) {
		g.line(m, PensionFund, CapacityPensioner, p, m.died)
	}
	if m.fixture {
		g.line(m, g.eco.employers[0].Code, CapacityEmployee, dayNum(FixtureHired), 0)
		return
	}
	if m.died != 0 || anniversary(m.born, 18) > g.today || anniversary(m.born, 65) <= g.today {
		return
	}
	lo := max(anniversary(m.born, 18), g.today-30*year)
	switch x := g.r.IntN(100); {
	case x < 60:
		e := g.eco.employers[g.eco.jobs.pick(g.r)]
		g.line(m, e.Code, CapacityEmployee, g.r.between(lo, g.today), 0)
	case x < 68:
		g.line(m, EmploymentService, CapacityJobseeker, g.r.between(max(lo, g.today-3*year), g.today), 0)
	}
}

// childBenefit files the minor children of the unit with the fund of their region from
// birth, and each parent once, from the birth of the eldest minor child.
func (g *gen) childBenefit() {
	if len(g.u.kids) == 0 {
		return
	}
	fund := g.net.funds[g.u.homes[0].region]
	first := 0
	for _, k := range g.u.kids {
		if k.died == 0 && anniversary(k.born, 18) > g.today {
			g.line(k, fund, CapacityChild, k.born, 0)
			if first == 0 {
				first = k.born
			}
		}
	}
	if first == 0 {
		return
	}
	for _, p := range g.u.parents {
		g.line(p, fund, CapacityParent, first, 0)
	}
}

// line adds a person-directory line from begin to end (0: open).
func (g *gen) line(m *member, inst, capacity string, begin, end int) {
	g.sum.Integrations++
	if !m.kept || g.pass != directoryPass {
		return
	}
	g.lines = append(g.lines, directory.Line{Action: directory.ActionAdd, Integration: directory.Integration{
		Person: m.Number, Institution: inst, Capacity: capacity, Begin: fromDayNum(begin), End: dateOf(end), CreatedBy: Actor,
	}})
}

// event adds a vital event of m to the unit, its data given as key-value pairs. It is
// recorded during office hours of its day, at a time drawn from the seed so that reruns
// give the same register. Passes that do not keep it draw the time too, to stay in step.
func (g *gen) event(typ string, m *member, day int, data ...string) {
	minutes := 8*60 + g.r.IntN(600)
	g.sum.Events++
	if !m.kept || g.pass != populationPass {
		return
	}
	d := fromDayNum(day)
	at := d.Time().Add(time.Duration(minutes) * time.Minute)
	g.u.events = append(g.u.events, population.Event{Type: typ, Person: m.Number, Date: d, Data: object(data...), RecordedAt: at})
}

// object writes a JSON object of string pairs, leaving out empty values. Generated
// values are printable ASCII, which JSON quotes as strconv does.
func object(kv ...string) json.RawMessage {
	b := make([]byte, 0, 96)
	b = append(b, '{')
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendString(b, kv[i])
		b = append(b, ':')
		b = appendString(b, kv[i+1])
	}
	return append(b, '}')
}

// appendString quotes s; the common case, nothing to escape, skips strconv, which
// costs a tenth of the generator's time otherwise.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
