package population

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// The fields of a person that vital events change; the others (names, sex, birth,
// parents, nationality) no event of the register changes.
var (
	fieldsAddress = []string{"address"}
	fieldsHouse   = []string{"household"}
	fieldsMarital = []string{"marital_status", "spouse"}
)

// AsOf rebuilds p's record as it stood on day from the vital events: its own, and those
// of the spouses they name (a marriage declared on the other spouse, a spouse's death
// that widowed p). Events count on the day they happened, whenever they were recorded.
//
// A field whose history the events do not explain — replaying them up to today does not
// give p's current value, or the value before the first of them is not recorded (the
// address a person had before the first change of address the register holds) — is
// unknown; AsOf returns the record and the names of the unknown fields that differ on
// day, so that a caller asked for one of them can refuse rather than guess. A person
// born after day was not in the register: ok is false.
func AsOf(p Person, events []Event, day, today date.Date) (rebuilt Person, unknown []string, ok bool) {
	if p.BirthDate.IsZero() || p.BirthDate > day {
		return Person{}, nil, false
	}
	if day >= today {
		return p, nil, true
	}
	evs := slices.Clone(events)
	slices.SortStableFunc(evs, func(a, b Event) int {
		if a.Date != b.Date {
			return int(a.Date) - int(b.Date)
		}
		return int(a.Seq - b.Seq)
	})
	r := p
	if !p.DeathDate.IsZero() && p.DeathDate > day {
		r.DeathDate = 0
	}
	var addr fieldHistory[Address]
	var houseID fieldHistory[string]
	for _, ev := range evs {
		if ev.Person != p.Number {
			continue
		}
		switch ev.Type {
		case EventAddress:
			var a Address
			if json.Unmarshal(ev.Data, &a) == nil {
				addr.add(ev.Date, a)
			}
		case EventHousehold:
			var h struct {
				Household string `json:"household"`
			}
			if json.Unmarshal(ev.Data, &h) == nil {
				houseID.add(ev.Date, h.Household)
			}
		}
	}
	if a, known := addr.on(day, p.Address); known {
		r.Address = a
	} else {
		unknown = append(unknown, fieldsAddress...)
	}
	if h, known := houseID.on(day, p.Household); known {
		r.Household = h
	} else {
		unknown = append(unknown, fieldsHouse...)
	}
	status, spouse, known := marital(p, evs, day, today)
	if known {
		r.MaritalStatus, r.Spouse = status, spouse
	} else {
		unknown = append(unknown, fieldsMarital...)
	}
	return r, unknown, true
}

// fieldHistory is the values a field took, by the day each change happened.
type fieldHistory[T comparable] struct {
	days   []date.Date
	values []T
}

func (h *fieldHistory[T]) add(d date.Date, v T) {
	h.days, h.values = append(h.days, d), append(h.values, v)
}

// on returns the value on day given the current one: the value of the last change up to
// day, the current value when there was none at all, and unknown when the first change
// came after day (what was before it is not recorded) or when the changes do not end at
// the current value (a change the events do not hold).
func (h *fieldHistory[T]) on(day date.Date, current T) (T, bool) {
	if len(h.values) == 0 {
		return current, true
	}
	var zero T
	if h.values[len(h.values)-1] != current {
		return zero, false
	}
	i := len(h.days) - 1
	for i >= 0 && h.days[i] > day {
		i--
	}
	if i < 0 {
		return zero, false
	}
	return h.values[i], true
}

// marital replays the marriages and divorces of p (declared on p, or on a spouse naming
// p) and the deaths of its spouses: single until the first. It is known when the replay
// up to today gives p's current status and spouse.
func marital(p Person, evs []Event, day, today date.Date) (status, spouse string, known bool) {
	type state struct{ status, spouse string }
	replay := func(until date.Date) state {
		s := state{status: Single}
		for _, ev := range evs {
			if ev.Date > until {
				break
			}
			switch ev.Type {
			case EventMarriage, EventDivorce:
				other := spouseIn(ev, p.Number)
				if other == "" {
					continue
				}
				if ev.Type == EventMarriage {
					s = state{Married, other}
				} else if s.spouse == other || s.status != Married {
					s = state{Divorced, ""}
				}
			case EventDeath:
				if s.status == Married && ev.Person == s.spouse {
					s.status = Widowed // the survivor stays linked to the deceased
				}
			}
		}
		return s
	}
	if now := replay(today); now.status != p.MaritalStatus || now.spouse != p.Spouse {
		return "", "", false
	}
	s := replay(day)
	return s.status, s.spouse, true
}

// spouseIn returns the other person of a marriage or divorce ev that concerns person:
// declared on person (the spouse its data names), or on the other naming person.
func spouseIn(ev Event, person string) string {
	var d struct {
		Spouse string `json:"spouse"`
	}
	if json.Unmarshal(ev.Data, &d) != nil || d.Spouse == "" {
		return ""
	}
	switch {
	case ev.Person == person:
		return d.Spouse
	case d.Spouse == person:
		return ev.Person
	}
	return ""
}

// Spouses returns the persons p's record and events link it to as spouse: whose events
// AsOf needs besides p's own.
func Spouses(p Person, events []Event) []string {
	var out []string
	add := func(n string) {
		if n != "" && n != p.Number && !slices.Contains(out, n) && len(out) < MaxEventPersons-1 {
			out = append(out, n)
		}
	}
	add(p.Spouse)
	for _, ev := range events {
		if ev.Type == EventMarriage || ev.Type == EventDivorce {
			add(spouseIn(ev, p.Number))
		}
	}
	return out
}

// PersonOn reads p's events (and its spouses') from store and rebuilds p as of day with
// AsOf.
func PersonOn(ctx context.Context, store Store, p Person, day, today date.Date) (Person, []string, bool, error) {
	if day >= today {
		return p, nil, !p.BirthDate.IsZero() && p.BirthDate <= day, nil
	}
	own, err := store.Events(ctx, p.Number)
	if err != nil {
		return Person{}, nil, false, err
	}
	events := own
	if spouses := Spouses(p, own); len(spouses) > 0 {
		theirs, err := store.Events(ctx, spouses...)
		if err != nil {
			return Person{}, nil, false, err
		}
		events = append(events, theirs...)
	}
	r, unknown, ok := AsOf(p, events, day, today)
	return r, unknown, ok, nil
}

// ErrUnknownOn is the fault of a source asked for a field of a past day that the
// register's history does not explain.
func ErrUnknownOn(field string, day date.Date) error {
	return fault.Invalidf("header.meta.on_date", "the register's history does not tell %s as it stood on %s; ask about today", field, day)
}
