package rawjson

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

var splitSeeds = []string{
	`{}`, `[]`, `null`, `{"a":1,"b":"x","a":[1,{"c":"]}"}]}`, ` { "k" : "v\"}" , "e":{ } } `,
	`[1, "two", {"three":[3]}, null, true, -1.5e3]`, `{"\u00e9t\u00e9":"\\","caf\u00e9":{"x":"\u2028"}}`,
	`{"k":"v"} `, `"str"`, `12`, `{"a":{"b":{"c":{"d":[[[]]]}}}}`, "{\"\xff\":1}",
}

// FuzzSplit checks that Fields, Elements and Unquote answer as encoding/json does on
// valid JSON, and never panic on anything else.
func FuzzSplit(f *testing.F) {
	for _, s := range splitSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, gotList := Fields(b), []json.RawMessage(nil)
		gotList, listOK := Elements(b)
		s, strOK := Unquote(b)
		if !json.Valid(b) {
			return
		}
		var want map[string]json.RawMessage
		if json.Unmarshal(b, &want) != nil {
			want = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Fields(%q) = %q, encoding/json: %q", b, got, want)
		}
		for name, v := range want {
			if m, ok := Member(b, name); !ok || string(m) != string(v) {
				t.Fatalf("Member(%q, %q) = %q %v, encoding/json: %q", b, name, m, ok, v)
			}
		}
		if _, ok := Member(b, "\x00absent"); ok {
			t.Fatalf("Member(%q) found an absent name", b)
		}
		var wantList []json.RawMessage
		wantErr := json.Unmarshal(b, &wantList)
		if listOK != (wantErr == nil) || (listOK && !reflect.DeepEqual(gotList, wantList)) {
			t.Fatalf("Elements(%q) = %q %v, encoding/json: %q %v", b, gotList, listOK, wantList, wantErr)
		}
		var wantStr string
		wantErr = json.Unmarshal(b, &wantStr)
		if b[0] == '"' && (strOK != (wantErr == nil) || s != wantStr) {
			t.Fatalf("Unquote(%q) = %q %v, encoding/json: %q %v", b, s, strOK, wantStr, wantErr)
		}
	})
}

// FuzzEachPlainMember: where EachPlainMember goes through an object, EachMember goes
// through it too, with the same names and values.
func FuzzEachPlainMember(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"c":"d"},"@t":"x"}`))
	f.Add([]byte(`{"a\u0062":1}`))
	f.Add([]byte(` { "a" : [1, 2] , "a":null } `))
	f.Fuzz(func(t *testing.T, b []byte) {
		type member struct{ name, v string }
		var plainList, list []member
		ok := EachPlainMember(b, func(name, v []byte) bool {
			plainList = append(plainList, member{string(name), string(v)})
			return true
		})
		full := EachMember(b, func(name string, v []byte) bool {
			list = append(list, member{name, string(v)})
			return true
		})
		if ok && (!full || !slices.Equal(plainList, list)) {
			t.Fatalf("EachPlainMember(%q) = %v, %v; EachMember: %v, %v", b, plainList, ok, list, full)
		}
	})
}
