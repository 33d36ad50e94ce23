package rights

import (
	"reflect"
	"slices"
	"strconv"

	"github.com/crossroads-hub/crossroads/internal/date"
)

// Services of the authentic sources facts come from (the synthetic network's ids).
const (
	SourceCivil      = "civil-person"
	SourceSocial     = "social-member"
	SourceDisability = "disability-status"
	SourceEmployment = "worker-employment"
)

// Facts are what the rules may read about one person on a day, as the expression
// language names them (the expr tags). Dates say when each group of facts took effect.
type Facts struct {
	Person string `expr:"-" json:"-"`

	Age      int    `expr:"age" json:"age"`
	Alive    bool   `expr:"alive" json:"alive"`
	Sex      string `expr:"sex" json:"sex"`
	Region   string `expr:"region" json:"region"`
	Resident bool   `expr:"resident" json:"resident"` // has an address in the nation

	HouseholdSize     int  `expr:"household_size" json:"household_size"`
	HouseholdAdults   int  `expr:"household_adults" json:"household_adults"`
	HouseholdChildren int  `expr:"household_children" json:"household_children"`
	HouseholdElderly  int  `expr:"household_elderly" json:"household_elderly"` // aged 65 or more
	SingleParent      bool `expr:"single_parent" json:"single_parent"`         // one adult with children

	Income          int `expr:"income" json:"income"`                     // the person's monthly income
	HouseholdIncome int `expr:"household_income" json:"household_income"` // the household's monthly income
	IncomePerUnit   int `expr:"income_per_unit" json:"income_per_unit"`   // per consumption unit (OECD-modified scale)

	Disabled      bool   `expr:"disabled" json:"disabled"`             // a lot of difficulty or more in a domain
	Severity      string `expr:"severity" json:"severity"`             // none, mild, moderate, severe
	DisabledChild bool   `expr:"disabled_child" json:"disabled_child"` // a child of the household is disabled

	Employed     bool `expr:"employed" json:"employed"`
	QuarterWages int  `expr:"quarter_wages" json:"quarter_wages"` // declared by employers, last quarter

	// When each group of facts took effect (not readable by rules).
	BirthDate      date.Date `expr:"-" json:"-"`
	DeathDate      date.Date `expr:"-" json:"-"`
	HouseholdDate  date.Date `expr:"-" json:"-"`
	IncomeDate     date.Date `expr:"-" json:"-"`
	DisabilityDate date.Date `expr:"-" json:"-"`
	EmploymentDate date.Date `expr:"-" json:"-"`
	Day            date.Date `expr:"-" json:"-"` // the day the facts are about
	AgeBand        string    `expr:"-" json:"-"` // for statistics
	Enrolled       []string  `expr:"-" json:"-"` // programmes of the beneficiary registry the person is enrolled in (non-take-up)
	HouseholdType  string    `expr:"-" json:"-"` // for statistics
}

// factInfo is where a fact comes from and which of Facts' dates is its.
type factInfo struct {
	index  int // field index in Facts
	source string
	date   func(f *Facts) date.Date
}

// factTable lists the facts rules may read, by expression name.
var factTable = func() map[string]factInfo {
	t := reflect.TypeFor[Facts]()
	src := map[string]string{
		"age": SourceCivil, "alive": SourceCivil, "sex": SourceCivil, "region": SourceCivil, "resident": SourceCivil,
		"household_size": SourceCivil, "household_adults": SourceCivil, "household_children": SourceCivil,
		"household_elderly": SourceCivil, "single_parent": SourceCivil,
		"income": SourceSocial, "household_income": SourceSocial, "income_per_unit": SourceSocial,
		"disabled": SourceDisability, "severity": SourceDisability, "disabled_child": SourceDisability,
		"employed": SourceEmployment, "quarter_wages": SourceEmployment,
	}
	dateOf := map[string]func(f *Facts) date.Date{
		SourceCivil:      func(f *Facts) date.Date { return f.BirthDate },
		SourceSocial:     func(f *Facts) date.Date { return f.IncomeDate },
		SourceDisability: func(f *Facts) date.Date { return f.DisabilityDate },
		SourceEmployment: func(f *Facts) date.Date { return f.EmploymentDate },
	}
	out := map[string]factInfo{}
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("expr")
		if name == "" || name == "-" {
			continue
		}
		s, ok := src[name]
		if !ok {
			panic("rights: fact " + name + " has no source")
		}
		d := dateOf[s]
		switch name {
		case "alive":
			d = func(f *Facts) date.Date {
				if !f.DeathDate.IsZero() {
					return f.DeathDate
				}
				return f.Day
			}
		case "household_size", "household_adults", "household_children", "household_elderly", "single_parent", "region", "resident":
			d = func(f *Facts) date.Date { return f.HouseholdDate }
		case "disabled_child":
			d = func(f *Facts) date.Date { return f.Day }
		}
		out[name] = factInfo{index: i, source: s, date: d}
	}
	return out
}()

// FactNames lists the facts rules may read, sorted.
func FactNames() []string {
	out := make([]string, 0, len(factTable))
	for n := range factTable {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// FactSourceOf returns the service a fact comes from, "" for an unknown fact.
func FactSourceOf(name string) string { return factTable[name].source }

// Used returns the facts names (read by a rule) with their values, sources and dates.
func (f *Facts) Used(names []string) []Fact {
	v := reflect.ValueOf(f).Elem()
	out := make([]Fact, 0, len(names))
	for _, n := range names {
		info, ok := factTable[n]
		if !ok {
			continue
		}
		d := info.date(f)
		if d.IsZero() || d > f.Day {
			d = f.Day
		}
		out = append(out, Fact{Name: n, Value: valueString(v.Field(info.index)), Source: info.source, Date: d})
	}
	return out
}

func valueString(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	}
	return v.String()
}

// Bands for statistics.
func AgeBand(age int) string {
	switch {
	case age < 18:
		return "0-17"
	case age < 30:
		return "18-29"
	case age < 45:
		return "30-44"
	case age < 65:
		return "45-64"
	case age < 80:
		return "65-79"
	}
	return "80+"
}

// HouseholdType classifies a household for statistics.
func HouseholdType(f *Facts) string {
	switch {
	case f.HouseholdSize <= 1:
		return "single"
	case f.SingleParent:
		return "single-parent"
	case f.HouseholdChildren > 0:
		return "couple-with-children"
	case f.HouseholdElderly > 0 && f.HouseholdSize == f.HouseholdElderly:
		return "elderly"
	}
	return "adults"
}
