package derived

import (
	"context"
	"maps"
	"slices"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// What the rights engine (internal/rights, through internal/rightsfacts) reads of the
// derived registries, in bulk: the same derivations as the records' (one code path), on
// the few columns of a person a whole nation's run can afford to read.

// Age is the age in whole years on day of a person born on birth.
func Age(birth, day date.Date) int { return ageOn(birth, day) }

// Difficulty is the disability registry's verdict for the person number born on birth,
// on day: its severity (none, mild, moderate, severe) and whether it counts as a
// disability (a lot of difficulty or more in a domain). declared, when set, is the
// last assessment's levels by domain; else the levels are derived.
func Difficulty(number string, birth, day date.Date, declared map[string]string) (severity string, disabled bool) {
	worst := 0
	a := ageOn(birth, day)
	for _, d := range wgDomains {
		level := 0
		if declared != nil {
			level = max(slices.Index(wgLevels, declared[d]), 0)
		} else {
			level = drawnLevel(number, d, a)
		}
		worst = max(worst, level)
	}
	return []string{"none", "mild", "moderate", "severe"}[worst], worst >= 2
}

// Declared is what was declared to the derived registries about a person up to a day.
type Declared struct {
	Income         *int      // the monthly income declared last; nil: none
	IncomeDate     date.Date // when it took effect
	Employed       bool      // an employment declared and not ended
	EmploymentDate date.Date // the day of the last hire or end; zero: none declared
	Domains        map[string]string
	Assessed       date.Date
	Enrolled       []string // the programmes of active enrolments declared, sorted
}

// DeclaredOf reads the changes declared about persons (at most
// population.MaxEventPersons) up to day; persons without changes (RegistryChanges 0)
// are not read and have no entry.
func (s *Source) DeclaredOf(ctx context.Context, day date.Date, persons ...*population.Person) (map[string]Declared, error) {
	decl, err := s.declared(ctx, day, allChanges, persons...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Declared)
	for n, d := range decl {
		if d == nil || (d.income == nil && d.employment.IsZero() && d.domains == nil && d.enrolments == nil) {
			continue
		}
		x := Declared{Income: d.income, IncomeDate: d.incomeDay, Employed: len(d.employers) > 0, EmploymentDate: d.employment,
			Domains: d.domains, Assessed: d.assessed}
		for _, p := range slices.Sorted(maps.Keys(d.enrolments)) {
			if d.enrolments[p].status == Active {
				x.Enrolled = append(x.Enrolled, p)
			}
		}
		out[n] = x
	}
	return out, nil
}
