package population

import (
	"context"
	"sort"

	"github.com/crossroads-hub/crossroads/internal/query"
)

// Searcher finds persons by a filter. It is separate from Store so that stores which
// cannot search (a test double, a bulk loader) need not pretend to.
type Searcher interface {
	// Search returns the page of persons matching q.Filter, in q.Sort order (person number
	// by default), and how many match in all. A filter too broad to answer within the
	// store's limits is an Invalid fault with field "query".
	Search(ctx context.Context, q query.Query) ([]Person, int, error)
}

// Attr returns a person's attribute by its field name ("given_name", "address.region"),
// as a string as the query model compares them (dates YYYY-MM-DD); false if unknown or empty.
func Attr(p *Person, name string) (string, bool) {
	var v string
	switch name {
	case "person":
		v = p.Number
	case "brn":
		v = p.BRN
	case "given_name":
		v = p.GivenName
	case "family_name":
		v = p.FamilyName
	case "sex":
		v = p.Sex
	case "birth_date":
		v = p.BirthDate.String()
	case "birth_place":
		v = p.BirthPlace
	case "death_date":
		v = p.DeathDate.String()
	case "address.street":
		v = p.Address.Street
	case "address.house_number":
		v = p.Address.HouseNumber
	case "address.postal_code":
		v = p.Address.PostalCode
	case "address.municipality":
		v = p.Address.Municipality
	case "address.region":
		v = p.Address.Region
	case "mother":
		v = p.Mother
	case "father":
		v = p.Father
	case "marital_status":
		v = p.MaritalStatus
	case "spouse":
		v = p.Spouse
	case "nationality":
		v = p.Nationality
	case "household":
		v = p.Household
	}
	return v, v != ""
}

// Attrs lists the attributes a filter may use.
var Attrs = []string{"person", "brn", "given_name", "family_name", "sex", "birth_date", "birth_place", "death_date",
	"address.street", "address.house_number", "address.postal_code", "address.municipality", "address.region",
	"mother", "father", "marital_status", "spouse", "nationality", "household"}

// Page sorts matches by keys (person number when none) and cuts the page q asks for.
func Page(ps []Person, q query.Query) []Person {
	keys := q.Sort
	sort.SliceStable(ps, func(i, j int) bool {
		for _, k := range keys {
			a, _ := Attr(&ps[i], k.Attr)
			b, _ := Attr(&ps[j], k.Attr)
			if c := query.Compare(a, b); c != 0 {
				return (c < 0) != k.Desc
			}
		}
		return ps[i].Number < ps[j].Number
	})
	from := min(q.Offset(), len(ps))
	to := min(from+q.PageSize, len(ps))
	return ps[from:to]
}
