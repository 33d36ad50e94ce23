package civil

import (
	"context"
	"encoding/json"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// Change is a vital event the civil registry's officers declare: a death, a change of
// address or of household, a marriage or a divorce. It is recorded with its event in one
// transaction, so the event log (the register's outbox) carries it to the hub's event
// bus and on to every institution with a file on the person.
type Change struct {
	Type      string              `json:"type"` // death, address, household, marriage, divorce
	Person    string              `json:"person"`
	Date      date.Date           `json:"date"`                // when it happened; not after today
	Address   *population.Address `json:"address,omitempty"`   // the new address (type address)
	Household string              `json:"household,omitempty"` // the household joined (type household): letters and digits; a new id starts one
	Spouse    string              `json:"spouse,omitempty"`    // the other person of a marriage or a divorce
}

// ChangeTypes are the changes Record takes.
var ChangeTypes = []string{population.EventDeath, population.EventAddress, population.EventHousehold, population.EventMarriage, population.EventDivorce}

// RecordChange checks c (the field at fault named in the error) and records it in store;
// today bounds its date. A deceased person's record is not changed again (conflict).
func RecordChange(ctx context.Context, store population.Store, c Change, today date.Date) (population.Event, error) {
	number, err := population.CheckDeclared(c.Person, c.Date, today)
	if err != nil {
		return population.Event{}, err
	}
	ev := population.Event{Type: c.Type, Person: number, Date: c.Date}
	if c.Address != nil && c.Type != population.EventAddress {
		return population.Event{}, fault.Invalidf("address", "is not part of a change of type %s", c.Type)
	}
	if c.Household != "" && c.Type != population.EventHousehold {
		return population.Event{}, fault.Invalidf("household", "is not part of a change of type %s", c.Type)
	}
	if c.Type == population.EventMarriage || c.Type == population.EventDivorce {
		return recordCouple(ctx, store, ev, c)
	}
	if c.Spouse != "" {
		return population.Event{}, fault.Invalidf("spouse", "is not part of a change of type %s", c.Type)
	}
	var apply func(*population.Person) error
	switch c.Type {
	case population.EventDeath:
		apply = func(p *population.Person) error {
			if c.Date < p.BirthDate {
				return fault.Invalidf("date", "%s is before the person's birth (%s)", c.Date, p.BirthDate)
			}
			p.DeathDate = c.Date
			return nil
		}
	case population.EventAddress:
		a, err := checkAddress(ctx, store, c.Address)
		if err != nil {
			return population.Event{}, err
		}
		ev.Data, _ = json.Marshal(a)
		apply = func(p *population.Person) error { p.Address = a; return nil }
	case population.EventHousehold:
		if !validHousehold(c.Household) {
			return population.Event{}, fault.Invalidf("household", "is required: 1 to 20 letters and digits")
		}
		ev.Data, _ = json.Marshal(map[string]string{"household": c.Household})
		apply = func(p *population.Person) error {
			if p.Household == c.Household {
				return fault.Conflictf("household", "%s already lives in household %s", p.Number, c.Household)
			}
			p.Household = c.Household
			return nil
		}
	default:
		return population.Event{}, fault.Invalidf("type", "%q is not a change this register records here: death, address, household, marriage or divorce", c.Type)
	}
	return store.Record(ctx, ev, func(p *population.Person) error {
		if !p.DeathDate.IsZero() {
			return fault.Conflictf("person", "%s died on %s: the record is closed", p.Number, p.DeathDate)
		}
		return apply(p)
	})
}

// recordCouple records a marriage or a divorce: both persons change, with one event (on
// the person declared, naming the spouse), in one transaction. A marriage needs two
// living persons neither of whom is married; a divorce, two persons married to each
// other.
func recordCouple(ctx context.Context, store population.Store, ev population.Event, c Change) (population.Event, error) {
	sn, err := ident.ParsePerson(c.Spouse)
	if err != nil {
		return population.Event{}, fault.Invalidf("spouse", "%v", err)
	}
	if sn.String() == ev.Person {
		return population.Event{}, fault.Invalidf("spouse", "is the person itself")
	}
	ev.Data, _ = json.Marshal(map[string]string{"spouse": sn.String()})
	return store.RecordCouple(ctx, ev, sn.String(), func(p, o *population.Person) error {
		for _, x := range []struct {
			field string
			p     *population.Person
		}{{"person", p}, {"spouse", o}} {
			switch {
			case !x.p.DeathDate.IsZero():
				return fault.Conflictf(x.field, "%s died on %s: the record is closed", x.p.Number, x.p.DeathDate)
			case c.Date < x.p.BirthDate:
				return fault.Invalidf("date", "%s is before the birth of %s (%s)", c.Date, x.p.Number, x.p.BirthDate)
			case ev.Type == population.EventMarriage && x.p.MaritalStatus == population.Married:
				return fault.Conflictf(x.field, "%s is married", x.p.Number)
			}
		}
		if ev.Type == population.EventMarriage {
			p.MaritalStatus, p.Spouse, o.MaritalStatus, o.Spouse = population.Married, o.Number, population.Married, p.Number
			return nil
		}
		if p.Spouse != o.Number || o.Spouse != p.Number || p.MaritalStatus != population.Married {
			return fault.Conflictf("spouse", "%s and %s are not married to each other", p.Number, o.Number)
		}
		p.MaritalStatus, p.Spouse, o.MaritalStatus, o.Spouse = population.Divorced, "", population.Divorced, ""
		return nil
	})
}

// validHousehold: 1 to 20 ASCII letters and digits.
func validHousehold(h string) bool {
	if h == "" || len(h) > 20 {
		return false
	}
	for _, c := range []byte(h) {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// checkAddress checks a new address: street, house number and postal code given, a
// municipality of the register in the region named.
func checkAddress(ctx context.Context, store population.Store, a *population.Address) (population.Address, error) {
	if a == nil {
		return population.Address{}, fault.Invalidf("address", "is required for a change of address")
	}
	for _, f := range []struct{ name, v string }{{"address.street", a.Street}, {"address.house_number", a.HouseNumber}, {"address.postal_code", a.PostalCode}} {
		if f.v == "" || len(f.v) > 200 {
			return population.Address{}, fault.Invalidf(f.name, "is required, at most 200 characters")
		}
	}
	places, err := store.Places(ctx)
	if err != nil {
		return population.Address{}, err
	}
	for _, p := range places {
		if p.Code == a.Municipality && p.Parent == a.Region && p.Parent != "" {
			return *a, nil
		}
	}
	return population.Address{}, fault.Invalidf("address.municipality", "%q is not a municipality of region %q", a.Municipality, a.Region)
}
