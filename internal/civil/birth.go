package civil

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// Birth is a birth the civil registry's officers declare: the child's names and sex, the
// day, and its parents (the mother, the father, or both), who are in the register. The
// register issues the child's person number and birth registration number; the child
// lives with the mother (else the father): its address, household and nationality.
type Birth struct {
	Date       date.Date `json:"date"` // not after today
	GivenName  string    `json:"given_name"`
	FamilyName string    `json:"family_name"`
	Sex        string    `json:"sex"` // male, female
	Mother     string    `json:"mother,omitempty"`
	Father     string    `json:"father,omitempty"`
}

// RecordBirth checks b (the field at fault named in the error), issues the child's
// number from ledger and records the child with its birth event in one transaction, so
// the event log carries it to the institutions with a file on a parent.
func RecordBirth(ctx context.Context, store population.Store, ledger ident.Ledger, b Birth, today date.Date) (population.Event, error) {
	if _, err := population.CheckDeclared("", b.Date, today); err != nil {
		return population.Event{}, err
	}
	for _, f := range []struct{ name, v string }{{"given_name", b.GivenName}, {"family_name", b.FamilyName}} {
		if strings.TrimSpace(f.v) == "" || len(f.v) > 100 {
			return population.Event{}, fault.Invalidf(f.name, "is required, at most 100 characters")
		}
	}
	sex := map[string]ident.Sex{"male": ident.Male, "female": ident.Female}[b.Sex]
	if sex == ident.SexUnknown {
		return population.Event{}, fault.Invalidf("sex", "%q: use male or female", b.Sex)
	}
	if b.Mother == "" && b.Father == "" {
		return population.Event{}, fault.Invalidf("mother", "a parent is required: the mother, the father or both")
	}
	var home *population.Person // whom the child lives with
	parents := map[string]string{}
	for _, p := range []struct{ field, number string }{{"mother", b.Mother}, {"father", b.Father}} {
		if p.number == "" {
			continue
		}
		pn, err := ident.ParsePerson(p.number)
		if err != nil {
			return population.Event{}, fault.Invalidf(p.field, "%v", err)
		}
		parent, err := store.Person(ctx, pn.String())
		if fault.KindOf(err) == fault.NotFound {
			return population.Event{}, fault.Invalidf(p.field, "%s is not in the register", pn)
		}
		if err != nil {
			return population.Event{}, err
		}
		switch {
		case parent.BirthDate >= b.Date:
			return population.Event{}, fault.Invalidf(p.field, "%s was born on %s, not before the child", pn, parent.BirthDate)
		case p.field == "mother" && !parent.DeathDate.IsZero() && parent.DeathDate < b.Date:
			return population.Event{}, fault.Invalidf("mother", "%s died on %s, before the birth", pn, parent.DeathDate)
		}
		parents[p.field] = pn.String()
		if home == nil && parent.DeathDate.IsZero() {
			home = &parent
		}
	}
	if home == nil {
		return population.Event{}, fault.Invalidf("mother", "no living parent for the child to live with")
	}
	// A random start: numbers do not reveal the order of births.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	n, err := ident.NewIssuer(ledger, rng).IssuePerson(ctx, b.Date.Year(), b.Date.Month(), b.Date.Day(), sex, ident.Register)
	if err != nil {
		return population.Event{}, fault.Wrap(err, "issue a person number")
	}
	data, _ := json.Marshal(parents)
	ev := population.Event{Type: population.EventBirth, Person: n.String(), Date: b.Date, Data: data}
	return store.Record(ctx, ev, func(p *population.Person) error {
		if p.BirthDate != 0 {
			return fault.Conflictf("person", "%s is already in the register", n)
		}
		*p = population.Person{Number: n.String(), BRN: "BRN-" + b.Date.String()[:4] + "-" + n.String(),
			GivenName: strings.TrimSpace(b.GivenName), FamilyName: strings.TrimSpace(b.FamilyName), Sex: b.Sex,
			BirthDate: b.Date, BirthPlace: home.Address.Municipality, Address: home.Address,
			Mother: parents["mother"], Father: parents["father"], MaritalStatus: population.Single,
			Nationality: home.Nationality, Household: home.Household}
		return nil
	})
}
