package exchange

import (
	"context"
	"slices"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// SelfInstitution is the institution an exchange made by a person about themselves is
// recorded under (the citizen portal): such an exchange is found among the person's own
// "who consulted my data" like any other, and tells them what the hub read for them.
const SelfInstitution = "SELF"

// SelfPurpose is the purpose of a person's access to their own data.
const SelfPurpose = "access by the person to their own data"

// SearchSelf asks service about person on behalf of that same person, authenticated by
// the caller (the portal's session): the only question it permits is a look-up of
// person by person number, and it returns only records about person, whole (the data
// subject sees everything held about them). Like Search, the caller must Seal the
// answer before showing anything; the record names the person and the decision.
func (x *Exchange) SearchSelf(ctx context.Context, ask Ask, person string) Answer {
	today := date.FromTime(x.now())
	if ask.Day.IsZero() {
		ask.Day = today
	}
	ask.Caller.Institution = SelfInstitution
	ans := Answer{Persons: Named(ask.Query)}
	pn, err := ident.ParsePerson(person)
	if err != nil {
		ans.Decision = deny(DenyInvalid, "the session names no valid person")
		ans.Err, ans.Status = fault.Invalidf("person", "the session names no valid person"), 400
		return ans
	}
	person = pn.String()
	if ask.Query.Kind != query.KindID || IDTypeOf(ask.Query.IDType) != IDPerson || ask.Query.IDValue != person {
		ans.Decision = deny(DenyPerson, "a person may ask about themselves only, by their person number")
		return refuse(ans, ans.Decision.Reasons[0])
	}
	if ask.Day > today {
		ans.Decision = deny(DenyDay, "the question is about %s, a day after today (%s)", ask.Day, today)
		return refuse(ans, ans.Decision.Reasons[0])
	}
	ans.Decision = Decision{Permit: true, Reasons: []string{"the person " + person + " asked about themselves, authenticated by the portal"}}
	src, err := x.sources.Source(ask.Service)
	if err != nil {
		return failed(ans, err)
	}
	res, err := src.Search(ctx, SourceRequest{Service: ask.Service, Query: ask.Query, Day: ask.Day, Today: today})
	if err != nil {
		return failed(ans, err)
	}
	for _, r := range res.Records {
		if p, _ := r["person"].(string); p == person {
			ans.Records = append(ans.Records, r)
			ans.Decision.Fields = appendKeys(ans.Decision.Fields, r)
		} else {
			ans.Withheld++
		}
	}
	for _, r := range res.Raw {
		if r.Person == person {
			ans.Raw = append(ans.Raw, r.JSON)
		} else {
			ans.Withheld++
		}
	}
	if !slices.Contains(ans.Persons, person) {
		ans.Persons = append(ans.Persons, person)
	}
	ans.Total, ans.RecordType, ans.Status = ans.Len(), res.RecordType, 200
	return ans
}

// appendKeys adds the top-level keys of r to fields, each once.
func appendKeys(fields []string, r map[string]any) []string {
	for k := range r {
		if !slices.Contains(fields, k) {
			fields = append(fields, k)
		}
	}
	slices.Sort(fields)
	return fields
}
