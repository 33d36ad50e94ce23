package civil

import (
	"encoding/json"
	"reflect"
	"testing"

	"pgregory.net/rapid"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// TestRecordMatchesJSON keeps the hand-built record equal to the person's JSON form, so
// that a field added to population.Person is not silently left out of answers.
func TestRecordMatchesJSON(t *testing.T) {
	p := population.Person{Number: "85073003328", BRN: "BRN-1", GivenName: "Ann", FamilyName: "Lee", Sex: "female",
		BirthDate: date.Of(1985, 7, 30), BirthPlace: "M0001", DeathDate: date.Of(2020, 1, 2),
		Address: population.Address{Street: "Main", HouseNumber: "1", PostalCode: "1000", Municipality: "M0001", Region: "R01"},
		Mother:  "1", Father: "2", MaritalStatus: "married", Spouse: "3", Nationality: "XCR", Household: "H1", RegistryChanges: 2}
	got, _ := Record(&p)
	b, _ := json.Marshal(p)
	var want map[string]any
	json.Unmarshal(b, &want)
	want["@type"] = RecordType
	delete(want, "registry_changes") // the derived registries', not the register's
	gb, _ := json.Marshal(got)
	var gotJSON map[string]any
	json.Unmarshal(gb, &gotJSON)
	if !reflect.DeepEqual(gotJSON, want) {
		t.Errorf("Record = %v\nwant %v", gotJSON, want)
	}
}

// TestRecordMinimised keeps record(p, fields) equal to Minimise(Record(p), fields) for
// field lists naming top-level fields, the address whole, parts of it, and nothing known.
func TestRecordMinimised(t *testing.T) {
	p := population.Person{Number: "85073003328", BRN: "BRN-1", GivenName: "Ann", FamilyName: "Lee", Sex: "female",
		BirthDate: date.Of(1985, 7, 30), Address: population.Address{Street: "Main", HouseNumber: "1", Municipality: "M0001"}}
	full, _ := Record(&p)
	rapid.Check(t, func(t *rapid.T) {
		names := []string{"person", "brn", "given_name", "sex", "death_date", "address", "address.street",
			"address.region", "address.postal_code", "address.street.x", "addressx", "unknown", "@type"}
		fields := rapid.SliceOf(rapid.SampledFrom(names)).Draw(t, "fields")
		if got, want := record(&p, fields), exchange.Minimise(full, fields); !reflect.DeepEqual(got, want) {
			t.Fatalf("record(%q) = %v\nMinimise = %v", fields, got, want)
		}
	})
	if got := record(&p, nil); !reflect.DeepEqual(got, full) {
		t.Errorf("record(nil) = %v; want %v", got, full)
	}
}
