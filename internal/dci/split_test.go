package dci

import (
	"encoding/json"
	"reflect"
	"testing"
)

var splitSeeds = []string{
	`{}`, `[]`, `null`, `{"a":1,"b":"x","a":[1,{"c":"]}"}]}`, ` { "k" : "v\"}" , "e":{ } } `,
	`[1, "two", {"three":[3]}, null, true, -1.5e3]`, `{"\u00e9t\u00e9":"\\","caf\u00e9":{"x":"\u2028"}}`,
	`{"k":"v"} `, `"str"`, `12`, `{"a":{"b":{"c":{"d":[[[]]]}}}}`, "{\"\xff\":1}",
}

// FuzzSplit checks that fields, elements and unquote answer as encoding/json does on
// valid JSON, and never panic on anything else.
func FuzzSplit(f *testing.F) {
	for _, s := range splitSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, gotList := fields(b), []json.RawMessage(nil)
		gotList, listOK := elements(b)
		s, strOK := unquote(b)
		if !json.Valid(b) {
			return
		}
		var want map[string]json.RawMessage
		if json.Unmarshal(b, &want) != nil {
			want = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("fields(%q) = %q, encoding/json: %q", b, got, want)
		}
		var wantList []json.RawMessage
		wantErr := json.Unmarshal(b, &wantList)
		if listOK != (wantErr == nil) || (listOK && !reflect.DeepEqual(gotList, wantList)) {
			t.Fatalf("elements(%q) = %q %v, encoding/json: %q %v", b, gotList, listOK, wantList, wantErr)
		}
		var wantStr string
		wantErr = json.Unmarshal(b, &wantStr)
		if b[0] == '"' && (strOK != (wantErr == nil) || s != wantStr) {
			t.Fatalf("unquote(%q) = %q %v, encoding/json: %q %v", b, s, strOK, wantStr, wantErr)
		}
	})
}

// benchSearch is the bench exchange's look-up, as a client sends it.
const benchSearch = `{"signature":"","header":{"version":"1.0.0","message_id":"m1","message_ts":"2026-11-24T10:00:00Z","action":"search","sender_id":"bench","total_count":1,"meta":{"purpose":"pension","fields":["name","birth_date"]}},` +
	`"message":{"transaction_id":"t1","search_request":[{"reference_id":"r1","timestamp":"2026-11-24T10:00:00Z","search_criteria":{"query_type":"idtype-value","query":{"type":"PN","value":"85061500118"},"pagination":{"page_size":1,"page_number":1}},"locale":"eng"}]}}`

func BenchmarkDecodeSearch(b *testing.B) {
	body := []byte(benchSearch)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodeSearch(body); err != nil {
			b.Fatal(err)
		}
	}
}
