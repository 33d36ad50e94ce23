package population

import (
	"encoding/json"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// DecodePerson decodes a person as json.Unmarshal does, into a zero p: the stores keep
// persons as JSON documents, and a batch consultation decodes thousands a second. The
// documents the stores write (members named exactly as Person's, strings and dates) are
// read without reflection; anything else is left to json.Unmarshal, so that the outcome
// is always its own (FuzzDecodePerson holds it to that).
func DecodePerson(doc []byte, p *Person) error {
	if decodeFast(doc, p) {
		return nil
	}
	*p = Person{}
	return json.Unmarshal(doc, p)
}

// decodeFast decodes doc if every member is one it knows, with a value of its type.
func decodeFast(doc []byte, p *Person) bool {
	str := func(v []byte, dst *string) bool {
		s, ok := rawjson.Unquote(v)
		*dst = s
		return ok
	}
	day := func(v []byte, dst *date.Date) bool {
		if string(v) == "null" {
			*dst = 0
			return true
		}
		s, ok := rawjson.Unquote(v)
		if !ok {
			return false
		}
		d, err := date.Parse(s)
		*dst = d
		return err == nil
	}
	ok := rawjson.EachMember(doc, func(name string, v []byte) bool {
		switch name {
		case "person":
			return str(v, &p.Number)
		case "brn":
			return str(v, &p.BRN)
		case "given_name":
			return str(v, &p.GivenName)
		case "family_name":
			return str(v, &p.FamilyName)
		case "sex":
			return str(v, &p.Sex)
		case "birth_date":
			return day(v, &p.BirthDate)
		case "birth_place":
			return str(v, &p.BirthPlace)
		case "death_date":
			return day(v, &p.DeathDate)
		case "address":
			return decodeAddress(v, &p.Address)
		case "mother":
			return str(v, &p.Mother)
		case "father":
			return str(v, &p.Father)
		case "marital_status":
			return str(v, &p.MaritalStatus)
		case "spouse":
			return str(v, &p.Spouse)
		case "nationality":
			return str(v, &p.Nationality)
		case "household":
			return str(v, &p.Household)
		}
		return false // registry_changes, or a member json.Unmarshal would match another way
	})
	return ok && rawjson.Valid(doc)
}

func decodeAddress(v []byte, a *Address) bool {
	return rawjson.EachMember(v, func(name string, v []byte) bool {
		var dst *string
		switch name {
		case "street":
			dst = &a.Street
		case "house_number":
			dst = &a.HouseNumber
		case "postal_code":
			dst = &a.PostalCode
		case "municipality":
			dst = &a.Municipality
		case "region":
			dst = &a.Region
		default:
			return false
		}
		s, ok := rawjson.Unquote(v)
		*dst = s
		return ok
	})
}
