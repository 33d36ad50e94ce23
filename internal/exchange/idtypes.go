package exchange

import (
	"slices"
	"strings"
)

// What an identifier type names. A look-up (idtype-value) names its identifier by a type,
// and registries, their documents and the tools that test them use several names for the
// same thing: the CRVS document's examples say UIN and BRN, others NID and NationalID,
// OpenCRVS NID, conformance suites BIRTH_REG_NO. The hub accepts them all, in any case.
const (
	IDPerson = "person" // a person number
	IDUnique = "uin"    // a person number, or a registry's own identifier (a fixture's UIN)
	IDBirth  = "brn"    // a birth registration number
	IDFarmer = "farmer" // the farmer registry's identifier
)

// IDTypes maps each identifier type the hub accepts, in upper case, to what it names.
// Search checks every type naming a person number (and a UIN whose value is one)
// against the asker's files before the source is asked; a type that names a person
// number must be listed here, or a look-up by it would reach the source unchecked.
var IDTypes = map[string]string{
	"PN": IDPerson, "PERSON": IDPerson, "NATIONAL_NUMBER": IDPerson,
	"NIN": IDPerson, "NID": IDPerson, "NATIONAL_ID": IDPerson, "NATIONALID": IDPerson,
	"UIN": IDUnique,
	"BRN": IDBirth, "BIRTH_REG_NO": IDBirth, "BIRTH_REGISTRATION_NUMBER": IDBirth,
	"FARMER_ID": IDFarmer,
}

// IDTypeOf returns what the identifier type t names, "" for a type the hub does not know.
func IDTypeOf(t string) string { return IDTypes[strings.ToUpper(t)] }

// IDTypesOf lists the type names of kinds, in the order of kinds, each kind's sorted.
func IDTypesOf(kinds ...string) []string {
	var out []string
	for _, k := range kinds {
		var names []string
		for name, kind := range IDTypes {
			if kind == k {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		if i := slices.Index(names, "PN"); i > 0 { // the hub's own first
			names = append([]string{"PN"}, slices.Delete(names, i, i+1)...)
		}
		if i := slices.Index(names, "BRN"); i > 0 {
			names = append([]string{"BRN"}, slices.Delete(names, i, i+1)...)
		}
		out = append(out, names...)
	}
	return out
}
