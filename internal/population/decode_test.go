package population_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/population"
)

func samplePerson() population.Person {
	return population.Person{Number: "85073003328", BRN: "B-1", GivenName: "Zoë \"Z\" <b>", FamilyName: "Müller\u2028",
		Sex: "female", BirthDate: date.Of(1985, 7, 30), BirthPlace: "M01", Address: population.Address{Street: "Rue", HouseNumber: "1",
			PostalCode: "1000", Municipality: "M01", Region: "R1"}, Mother: "60010100149", MaritalStatus: population.Married,
		Spouse: "84010100112", Nationality: "BEL", Household: "H1", RegistryChanges: 2}
}

// TestDecodePerson: what the stores write decodes as json.Unmarshal reads it.
func TestDecodePerson(t *testing.T) {
	for _, p := range []population.Person{samplePerson(), {Number: "85073003328"}, {}} {
		doc, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var got population.Person
		if err := population.DecodePerson(doc, &got); err != nil || !reflect.DeepEqual(got, p) {
			t.Errorf("DecodePerson(%s) = %+v, %v; want %+v", doc, got, err, p)
		}
	}
}

// FuzzDecodePerson holds DecodePerson to json.Unmarshal: the same person, the same
// verdict, whatever the document.
func FuzzDecodePerson(f *testing.F) {
	doc, _ := json.Marshal(samplePerson())
	f.Add(doc)
	f.Add([]byte(`{"person":"1","Person":"2"}`))
	f.Add([]byte(`{"birth_date":null,"death_date":"","address":{"street":"a"},"address":{"region":"b"}}`))
	f.Add([]byte(`{"given_name":"\u00e9\ud800","sex":null} x`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var got, want population.Person
		gotErr := population.DecodePerson(doc, &got)
		wantErr := json.Unmarshal(doc, &want)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("DecodePerson(%q): %v; json.Unmarshal: %v", doc, gotErr, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodePerson(%q) = %+v; json.Unmarshal: %+v", doc, got, want)
		}
	})
}
