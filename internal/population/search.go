package population

import (
	"context"
	"hash/fnv"
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

// Page sorts matches by keys, then by person number (by its hash with q.Opaque when
// set), and cuts the page q asks for.
func Page(ps []Person, q query.Query) []Person {
	keys := q.Sort
	var opaque map[string]uint64
	if q.Opaque != "" {
		opaque = make(map[string]uint64, len(ps))
		for i := range ps {
			opaque[ps[i].Number] = OpaqueKey(q.Opaque, ps[i].Number)
		}
	}
	sort.SliceStable(ps, func(i, j int) bool {
		for _, k := range keys {
			a, _ := Attr(&ps[i], k.Attr)
			b, _ := Attr(&ps[j], k.Attr)
			if c := query.Compare(a, b); c != 0 {
				return (c < 0) != k.Desc
			}
		}
		if opaque != nil {
			if a, b := opaque[ps[i].Number], opaque[ps[j].Number]; a != b {
				return a < b
			}
		}
		return ps[i].Number < ps[j].Number
	})
	from := min(q.Offset(), len(ps))
	to := min(from+q.PageSize, len(ps))
	return ps[from:to]
}

// OpaqueKey is the place of person in the order of q.Opaque = salt: a hash of both,
// which tells nothing about the number's birth date or sex.
func OpaqueKey(salt, person string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(salt))
	h.Write([]byte{0})
	h.Write([]byte(person))
	return h.Sum64()
}
