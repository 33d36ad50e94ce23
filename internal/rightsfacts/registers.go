// Package rightsfacts is the rights engine's front door to the authentic sources: it
// reads, in bulk, the facts the rules use from the built-in registers (the civil
// register's person and household, the social registry's income and employment, the
// disability registry, the employment source's quarterly wages) with the same
// derivations the registries' own answers use (internal/derived), and only after the
// exchange's policy has authorized each rule's granting institution for each source
// under the purpose of that right; each batch's reads are recorded in the audit log, a
// record naming at most 1,000 persons, findable by person (door.go).
package rightsfacts

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/rights"
)

// Registers reads facts from the built-in sources.
type Registers struct {
	Roster     population.Roster
	Population population.Store
	Declared   *derived.Source  // reads the changes declared to the derived registries
	Employment employment.Store // nil: no wages
}

// member is what a person contributes to their household, and their own facts.
type member struct {
	brief    population.Brief
	age      int
	alive    bool
	income   int
	incDate  date.Date
	disabled bool
	severity string
	disDate  date.Date
	employed bool
	empDate  date.Date
	wages    int
	enrolled []string
}

// household sums up the living members of a household.
type household struct {
	size, adults, children, elderly, income int
	disabledChild                           bool
}

func (h *household) add(m *member) {
	if !m.alive {
		return
	}
	h.size++
	h.income += m.income
	switch {
	case m.age < 18:
		h.children++
		h.disabledChild = h.disabledChild || m.disabled
	default:
		h.adults++
		if m.age >= 65 {
			h.elderly++
		}
	}
}

// regions maps municipalities to their region.
func (r *Registers) regions(ctx context.Context) (map[string]string, error) {
	places, err := r.Population.Places(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(places))
	for _, p := range places {
		if p.Parent != "" {
			out[p.Code] = p.Parent
		}
	}
	return out, nil
}

// members computes the facts of the briefs on day, with their declared changes and
// wages (wages, when not nil, by person key: a whole quarter read at once).
func (r *Registers) members(ctx context.Context, bs []population.Brief, day date.Date, wages map[int64]int) ([]member, error) {
	out := make([]member, len(bs))
	var changed []*population.Person
	for i, b := range bs {
		m := &out[i]
		m.brief = b
		m.age = derived.Age(b.BirthDate, day)
		m.alive = b.DeathDate.IsZero() || b.DeathDate > day
		if b.RegistryChanges > 0 {
			changed = append(changed, &population.Person{Number: b.Number, BirthDate: b.BirthDate, RegistryChanges: b.RegistryChanges})
		}
	}
	declared := map[string]derived.Declared{}
	for start := 0; start < len(changed); start += population.MaxEventPersons {
		d, err := r.Declared.DeclaredOf(ctx, day, changed[start:min(len(changed), start+population.MaxEventPersons)]...)
		if err != nil {
			return nil, err
		}
		for k, v := range d {
			declared[k] = v
		}
	}
	q := lastQuarter(day)
	for i := range out {
		m := &out[i]
		d, ok := declared[m.brief.Number]
		m.income = derived.Income(m.brief.Number, m.brief.BirthDate, day, d.Income)
		m.incDate = day
		if ok && d.Income != nil {
			m.incDate = d.IncomeDate
		}
		m.severity, m.disabled = derived.Difficulty(m.brief.Number, m.brief.BirthDate, day, d.Domains)
		m.disDate = day
		if d.Domains != nil {
			m.disDate = d.Assessed
		}
		m.employed, m.empDate, m.enrolled = d.Employed, d.EmploymentDate, d.Enrolled
		if wages != nil {
			k, _ := strconv.ParseInt(m.brief.Number, 10, 64)
			m.wages = wages[k]
		} else if r.Employment != nil {
			lines, err := r.Employment.WageLines(ctx, m.brief.Number)
			if err != nil {
				return nil, err
			}
			for _, l := range lines {
				if l.Quarter == q && !l.Replaced {
					m.wages += int(l.Wages + l.Bonus)
				}
			}
		}
		if m.wages > 0 && !m.employed {
			m.employed = true
			m.empDate = q.End()
		}
	}
	return out, nil
}

// lastQuarter is the last quarter ended before day.
func lastQuarter(day date.Date) employment.Quarter {
	q := employment.QuarterOf(day)
	if q%10 == 1 {
		return q - 10 + 3
	}
	return q - 1
}

// quarterWages reads the wages declared for the last quarter before day, by person key.
func (r *Registers) quarterWages(ctx context.Context, day date.Date) (map[int64]int, error) {
	out := map[int64]int{}
	if r.Employment == nil {
		return out, nil
	}
	err := r.Employment.QuarterDeclared(ctx, lastQuarter(day), func(person, _, amount int64) {
		out[person] += int(amount)
	})
	return out, err
}

// facts makes the rules' facts of m, in household h, on day.
func facts(m *member, h *household, regions map[string]string, day date.Date) rights.Facts {
	f := rights.Facts{
		Person: m.brief.Number, Age: m.age, Alive: m.alive, Sex: m.brief.Sex, Region: regions[m.brief.Municipality],
		Resident: m.brief.Municipality != "", Income: m.income, Disabled: m.disabled, Severity: m.severity,
		Employed: m.employed, QuarterWages: m.wages, Enrolled: m.enrolled,
		BirthDate: m.brief.BirthDate, DeathDate: m.brief.DeathDate, HouseholdDate: day, IncomeDate: m.incDate,
		DisabilityDate: m.disDate, EmploymentDate: m.empDate, Day: day,
	}
	if !m.alive {
		f.DeathDate = m.brief.DeathDate
	}
	hh := *h
	if hh.size == 0 { // alone, or the only member is deceased
		hh = household{}
		one := *m
		one.alive = true
		hh.add(&one)
	}
	f.HouseholdSize, f.HouseholdAdults, f.HouseholdChildren, f.HouseholdElderly = hh.size, hh.adults, hh.children, hh.elderly
	f.SingleParent = hh.adults == 1 && hh.children > 0
	f.HouseholdIncome, f.DisabledChild = hh.income, hh.disabledChild
	// Per consumption unit, the OECD-modified scale the social registry's poverty score uses.
	units := 1 + 0.5*float64(max(hh.adults-1, 0)) + 0.3*float64(hh.size-max(hh.adults, 1))
	f.IncomePerUnit = int(float64(hh.income) / units)
	if f.EmploymentDate.IsZero() {
		f.EmploymentDate = day
	}
	f.AgeBand, f.HouseholdType = rights.AgeBand(f.Age), rights.HouseholdType(&f)
	return f
}

// Of reads the facts of persons on day (unknown persons left out), in number order.
func (r *Registers) Of(ctx context.Context, persons []string, day date.Date) ([]rights.Facts, error) {
	bs, err := r.Roster.BriefsOf(ctx, persons)
	if err != nil || len(bs) == 0 {
		return nil, err
	}
	var hhIDs []string
	seen := map[string]bool{}
	for _, b := range bs {
		if b.Household != "" && !seen[b.Household] {
			seen[b.Household] = true
			hhIDs = append(hhIDs, b.Household)
		}
	}
	all, err := r.Roster.HouseholdBriefs(ctx, hhIDs)
	if err != nil {
		return nil, err
	}
	asked := map[string]bool{}
	for _, b := range bs {
		asked[b.Number] = true
	}
	for _, b := range bs { // a person without household
		if b.Household == "" {
			all = append(all, b)
		}
	}
	ms, err := r.members(ctx, all, day, nil)
	if err != nil {
		return nil, err
	}
	regions, err := r.regions(ctx)
	if err != nil {
		return nil, err
	}
	hh := map[string]*household{}
	for i := range ms {
		hh[householdKey(&ms[i])] = addTo(hh[householdKey(&ms[i])], &ms[i])
	}
	var out []rights.Facts
	done := map[string]bool{}
	for i := range ms {
		m := &ms[i]
		if asked[m.brief.Number] && !done[m.brief.Number] {
			done[m.brief.Number] = true
			out = append(out, facts(m, hh[householdKey(m)], regions, day))
		}
	}
	sortFacts(out)
	return out, nil
}

func householdKey(m *member) string {
	if m.brief.Household == "" {
		return "person:" + m.brief.Number
	}
	return m.brief.Household
}

func addTo(h *household, m *member) *household {
	if h == nil {
		h = &household{}
	}
	h.add(m)
	return h
}

func sortFacts(fs []rights.Facts) {
	slices.SortFunc(fs, func(a, b rights.Facts) int { return strings.Compare(a.Person, b.Person) })
}
