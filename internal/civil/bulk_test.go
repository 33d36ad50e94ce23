package civil

import (
	"encoding/json"
	"reflect"
	"testing"

	"pgregory.net/rapid"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// fieldLists are the minimisations the bulk records are checked under.
var fieldLists = [][]string{nil, {}, {"given_name"}, {"address"}, {"address.street", "birth_date"}, {"address.nowhere"},
	{"family_name", "death_date", "spouse", "address.region"}, {"unknown"}}

// asMap decodes a JSON object for comparison.
func asMap(t interface{ Fatalf(string, ...any) }, b []byte) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not a JSON object: %s: %v", b, err)
	}
	return m
}

// TestBulkRecordsMatchRecord: the records of the bulk path, from a person or straight
// from its stored document, carry exactly what record(p, fields) carries.
func TestBulkRecordsMatchRecord(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		str := rapid.OneOf(rapid.Just(""), rapid.String(), rapid.StringMatching(`[a-z<>&"\\]{1,8}`))
		p := population.Person{Number: rapid.StringMatching(`[0-9]{11}`).Draw(t, "number"), BRN: str.Draw(t, "brn"),
			GivenName: str.Draw(t, "given"), FamilyName: str.Draw(t, "family"), Sex: str.Draw(t, "sex"),
			BirthDate: date.Date(rapid.SampledFrom([]int{0, 19850730}).Draw(t, "birth")), BirthPlace: str.Draw(t, "place"),
			DeathDate: date.Date(rapid.SampledFrom([]int{0, 20200102}).Draw(t, "death")),
			Address: population.Address{Street: str.Draw(t, "street"), HouseNumber: str.Draw(t, "house"),
				PostalCode: str.Draw(t, "postal"), Municipality: str.Draw(t, "municipality"), Region: str.Draw(t, "region")},
			Mother: str.Draw(t, "mother"), Father: str.Draw(t, "father"), MaritalStatus: str.Draw(t, "marital"),
			Spouse: str.Draw(t, "spouse"), Nationality: str.Draw(t, "nationality"), Household: str.Draw(t, "household"),
			RegistryChanges: rapid.IntRange(0, 3).Draw(t, "changes")}
		fields := rapid.SampledFrom(fieldLists).Draw(t, "fields")
		if fields != nil {
			fields = append(fields, "person")
		}
		want, _ := json.Marshal(record(&p, fields))
		got := AppendRecord(nil, &p, fields)
		if !reflect.DeepEqual(asMap(t, got), asMap(t, want)) {
			t.Fatalf("AppendRecord = %s; want %s", got, want)
		}
		doc, _ := json.Marshal(p)
		fromDoc, person, ok := appendDoc([]byte("prefix"), doc, keeper(fields))
		if !ok || person != p.Number || string(fromDoc[:6]) != "prefix" {
			t.Fatalf("appendDoc(%s) = %s, %q, %v; want the record of %s", doc, fromDoc, person, ok, p.Number)
		}
		if !reflect.DeepEqual(asMap(t, fromDoc[6:]), asMap(t, want)) {
			t.Fatalf("appendDoc(%s) = %s; want %s", doc, fromDoc[6:], want)
		}
	})
}

// FuzzAppendDoc: a stored document, whatever it holds, is either written as the record
// of the person it decodes to, or left to the decoder (ok false, nothing appended).
func FuzzAppendDoc(f *testing.F) {
	doc, _ := json.Marshal(population.Person{Number: "85073003328", GivenName: "Ann", Address: population.Address{Street: "Main"}})
	f.Add(doc, 0)
	f.Add([]byte(`{"person":"1","person":"2","address":{"street":1}}`), 3)
	f.Add([]byte(`{"person":"1","given_name":"\u00e9","birth_date":null,"registry_changes":2}`), 2)
	f.Fuzz(func(t *testing.T, doc []byte, k int) {
		fields := fieldLists[uint(k)%uint(len(fieldLists))]
		got, person, ok := appendDoc(nil, doc, keeper(fields))
		if !ok {
			if len(got) != 0 {
				t.Fatalf("appendDoc(%q) appended %q and failed", doc, got)
			}
			return
		}
		var p population.Person
		if err := population.DecodePerson(doc, &p); err != nil {
			t.Fatalf("appendDoc(%q) wrote %s of a document the decoder refuses: %v", doc, got, err)
		}
		if person != p.Number {
			t.Fatalf("appendDoc(%q): person %q; decoded %q", doc, person, p.Number)
		}
		if !dupFree(doc) {
			return // a repeated member: the exchange's minimising keeps the last, as a decoder does
		}
		want := AppendRecord(nil, &p, fields)
		if !reflect.DeepEqual(asMap(t, got), asMap(t, want)) {
			t.Fatalf("appendDoc(%q) = %s; the decoded person's record is %s", doc, got, want)
		}
	})
}

// dupFree says whether no member name repeats in doc or in its address.
func dupFree(doc []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(doc, &top) != nil {
		return false
	}
	var n int
	rawjson.EachMember(doc, func(string, []byte) bool { n++; return true })
	if n != len(top) {
		return false
	}
	if a, ok := top["address"]; ok {
		var sub map[string]json.RawMessage
		if json.Unmarshal(a, &sub) != nil {
			return false
		}
		n = 0
		rawjson.EachMember(a, func(string, []byte) bool { n++; return true })
		return n == len(sub)
	}
	return true
}

func keeper(fields []string) *exchange.Minimiser {
	if fields == nil {
		return nil
	}
	return exchange.NewMinimiser(fields)
}
