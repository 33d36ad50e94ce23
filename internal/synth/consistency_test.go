package synth

import (
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// TestConsistency checks a 5,000-person nation the way a careful reader of the register
// would: every fact agrees with the others.
func TestConsistency(t *testing.T) {
	n := generate(t, 42, 5000)
	persons := map[string]population.Person{}
	brns := map[string]bool{}
	for _, p := range n.pop.persons {
		checkNumber(t, p)
		if _, dup := persons[p.Number]; dup {
			t.Errorf("person number %s is used twice", p.Number)
		}
		if brns[p.BRN] {
			t.Errorf("BRN %s is used twice", p.BRN)
		}
		persons[p.Number], brns[p.BRN] = p, true
	}
	today := dayNum(testToday)
	for _, p := range n.pop.persons {
		checkDates(t, p, today)
		checkFamily(t, p, persons)
	}
	checkEvents(t, n.pop.events, persons)
	checkLines(t, n, persons, today)
	if dead := 100 * n.sum.Deceased / n.sum.Persons; dead < 7 || dead > 13 {
		t.Errorf("%d%% of the register is deceased; want about 10%%", dead)
	}
}

func checkNumber(t *testing.T, p population.Person) {
	t.Helper()
	pn, err := ident.ParsePerson(p.Number)
	if err != nil {
		t.Errorf("person %s: %v", p.Number, err)
		return
	}
	y, m, d := pn.BirthDate()
	if date.Of(y, m, d) != p.BirthDate || pn.Sex().String() != p.Sex || pn.IsBIS() {
		t.Errorf("person %s: number says %04d-%02d-%02d %s; register says %s %s", p.Number, y, m, d, pn.Sex(), p.BirthDate, p.Sex)
	}
}

func checkDates(t *testing.T, p population.Person, today int) {
	t.Helper()
	born := dayNum(p.BirthDate)
	if p.DeathDate.IsZero() {
		if age := ageOn(born, today); age < 0 || age > 100 {
			t.Errorf("person %s is %d years old", p.Number, age)
		}
		return
	}
	if d := dayNum(p.DeathDate); d < born || d > today {
		t.Errorf("person %s born %s died %s, after today or before birth", p.Number, p.BirthDate, p.DeathDate)
	}
}

func checkFamily(t *testing.T, p population.Person, persons map[string]population.Person) {
	t.Helper()
	for _, parent := range []struct{ number, sex string }{{p.Mother, "female"}, {p.Father, "male"}} {
		if parent.number == "" {
			continue
		}
		q, ok := persons[parent.number]
		if !ok || q.Sex != parent.sex {
			t.Errorf("person %s: parent %s missing or not %s", p.Number, parent.number, parent.sex)
		} else if anniversary(dayNum(q.BirthDate), 15) > dayNum(p.BirthDate) {
			t.Errorf("person %s born %s: parent %s born %s is not 15 years older", p.Number, p.BirthDate, q.Number, q.BirthDate)
		}
	}
	if p.Spouse != "" {
		if q, ok := persons[p.Spouse]; !ok || q.Spouse != p.Number {
			t.Errorf("person %s: spouse %s does not link back", p.Number, p.Spouse)
		}
	}
	if married := p.MaritalStatus == population.Married || p.MaritalStatus == population.Widowed; married != (p.Spouse != "") {
		t.Errorf("person %s is %s with spouse %q", p.Number, p.MaritalStatus, p.Spouse)
	}
}

func checkEvents(t *testing.T, evs []population.Event, persons map[string]population.Person) {
	t.Helper()
	births, deaths := map[string]int{}, map[string]date.Date{}
	for _, e := range evs {
		p, ok := persons[e.Person]
		switch {
		case !ok:
			t.Errorf("%s event of unknown person %s", e.Type, e.Person)
		case e.Type == population.EventBirth:
			births[e.Person]++
			if e.Date != p.BirthDate {
				t.Errorf("birth event of %s on %s; born %s", p.Number, e.Date, p.BirthDate)
			}
		case e.Type == population.EventDeath:
			deaths[e.Person] = e.Date
		case e.Type == population.EventMarriage && !strings.Contains(string(e.Data), `"spouse":"`):
			t.Errorf("marriage event of %s without spouse: %s", p.Number, e.Data)
		}
	}
	for _, p := range persons {
		if births[p.Number] != 1 {
			t.Errorf("person %s has %d birth events", p.Number, births[p.Number])
		}
		if deaths[p.Number] != p.DeathDate {
			t.Errorf("person %s died %s; death event %s", p.Number, p.DeathDate, deaths[p.Number])
		}
	}
}

func checkLines(t *testing.T, n generated, persons map[string]population.Person, today int) {
	t.Helper()
	if len(n.dir.lines) != n.sum.Integrations {
		t.Errorf("%d integrations stored; summary says %d", len(n.dir.lines), n.sum.Integrations)
	}
	for _, l := range n.dir.lines {
		p, ok := persons[l.Person]
		if !ok {
			t.Errorf("line for unknown person %s", l.Person)
			continue
		}
		if _, ok := n.dir.records[directory.KindInstitution][l.Institution]; !ok {
			t.Errorf("line for unknown institution %s", l.Institution)
		}
		born := dayNum(p.BirthDate)
		if l.Institution == PensionFund && (dayNum(l.Begin) != anniversary(born, 65) || dayNum(l.Begin) > today) {
			t.Errorf("pension line of %s born %s begins %s", p.Number, p.BirthDate, l.Begin)
		}
		if l.Capacity == CapacityChild && anniversary(born, 18) <= today {
			t.Errorf("child-benefit line of adult %s born %s", p.Number, p.BirthDate)
		}
		if strings.HasPrefix(l.Institution, CityPrefix) && (!p.DeathDate.IsZero() || l.Institution != CityPrefix+p.Address.Region) {
			t.Errorf("%s line of %s living in %s, died %s", l.Institution, p.Number, p.Address.Region, p.DeathDate)
		}
		if !p.DeathDate.IsZero() && (l.End.IsZero() || l.End > p.DeathDate) {
			t.Errorf("line %s %s of %s who died %s ends %s", l.Institution, l.Capacity, p.Number, p.DeathDate, l.End)
		}
	}
}
