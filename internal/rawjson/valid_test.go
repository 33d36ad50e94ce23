package rawjson

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validCases are compared against json.Valid, not against expectations of their own.
var validCases = []string{
	"", " ", "\t\n\r ", "\v1", "\f1", "\u00a01", "1", " 1 ", "-", "-0", "-01", "0", "00", "01", "1.", "1.e5",
	"1.5", "-1.5e-3", "1e", "1e+", "1e5", "1E-7", "1e+07", "1.5e", ".5", "+1", "0x10",
	"1 2", "1,", "12345678901234567890123456789", "-a", "1true",
	`""`, `"a"`, `"\"\\\/\b\f\n\r\t"`, `"\u12"`, `"\u12G4"`, `"\u00e9\uD834\uDD1E"`, `"\uDD1E"`,
	`"\x"`, `"\'"`, `"\U0041"`, `"\`, `"\u`, `"\u123`, `"abc`, `"`, "\"a\tb\"", "\"a\x00b\"",
	"\"a\x1fb\"", "\"a\x7fb\"", "\"\xff\xfe\xc3\"", "\"\xed\xa0\x80\"", "\xff", "[\xff]", "\"a\"\xff",
	"true", "false", "null", "nul", "nulll", "tru", "truex", "True", "NULL", "true false", "true,",
	"[]", "{}", " [ ] ", " { } ", "[", "]", "{", "}", "[}", "{]", "[1,]", "[,1]", "[1,,2]", "[1 2]",
	`[1,"a",true,null,{},[]]`, `{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{"a":}`, `{"a"}`, `{1:2}`,
	`{"a":1 "b":2}`, `{"a":1,"b":[{"c":null}]}`, `{ "a" : [ 1 , { "b" : "c" } ] }`, `{,}`, `{"a":1]`,
	`[1}`, `[[]]]`, `[[]`, `{"a":{}}}`, `{"a":{"b":[]}`, "{\"a\":1}\x00", "[1]\n", "\ufeff{}",
}

// nested returns a document of n arrays or objects, each holding the next.
func nested(n int, object bool) string {
	if object {
		return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n)
	}
	return strings.Repeat("[", n) + strings.Repeat("]", n)
}

func deepCases() []string {
	return []string{
		nested(maxDepth, false), nested(maxDepth+1, false),
		nested(maxDepth, true), nested(maxDepth+1, true),
		strings.Repeat(`[{"a":`, maxDepth/2) + "[]" + strings.Repeat("}]", maxDepth/2),
		strings.Repeat(`[{"a":`, maxDepth/2) + "1" + strings.Repeat("}]", maxDepth/2),
		nested(maxDepth+1, false)[1:], // unbalanced, but within the limit
		strings.Repeat("[", 3*maxDepth),
	}
}

func TestValid(t *testing.T) {
	for _, s := range append(validCases, deepCases()...) {
		if got, want := Valid([]byte(s)), json.Valid([]byte(s)); got != want {
			name := s
			if len(name) > 40 {
				name = name[:40] + "…"
			}
			t.Errorf("Valid(%q) = %v, json.Valid says %v", name, got, want)
		}
	}
}

func TestValidDepthLimit(t *testing.T) {
	if !Valid([]byte(nested(maxDepth, false))) || Valid([]byte(nested(maxDepth+1, false))) {
		t.Errorf("depth %d must be the deepest valid nesting", maxDepth)
	}
}

func TestValidNoAlloc(t *testing.T) {
	doc := []byte(nested(64, true))
	if n := testing.AllocsPerRun(100, func() { Valid(doc) }); n != 0 {
		t.Errorf("Valid allocates %v times at depth 64", n)
	}
}

// dciSamples returns the DCI sample messages next to the module, if they are there.
func dciSamples() [][]byte {
	files, _ := filepath.Glob("../../../shared/dci/samples/*/*.json")
	var docs [][]byte
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			docs = append(docs, b)
		}
	}
	return docs
}

func FuzzValid(f *testing.F) {
	for _, s := range validCases {
		f.Add([]byte(s))
	}
	for _, b := range dciSamples() {
		f.Add(b)
	}
	f.Add([]byte(searchResponse))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Errorf("Valid(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

// searchResponse is a DCI search answer with one record, as a remote registry sends it.
const searchResponse = `{"signature":"","header":{"version":"1.0.0","message_id":"7f3c2a91-4b8e-4d2a-9c61-0e5b7d8f1a23",` +
	`"message_ts":"2025-03-14T09:26:53.589Z","action":"on-search","status":"succ","status_reason_code":"",` +
	`"status_reason_message":"","total_count":1,"completed_count":1,"sender_id":"civil-registry.example.gov",` +
	`"receiver_id":"crossroads-hub","is_msg_encrypted":false,"meta":{}},` +
	`"message":{"transaction_id":"a1b2c3d4-e5f6-4789-abcd-ef0123456789","correlation_id":"c0ffee00-1234-4abc-8def-0123456789ab",` +
	`"search_response":[{"reference_id":"12345678901234567890","timestamp":"2025-03-14T09:26:53.588Z","status":"succ",` +
	`"status_reason_code":null,"status_reason_message":null,"data":{"version":"1.0.0","reg_type":"CRVS",` +
	`"reg_event_type":"birth","reg_record_type":"person","reg_records":{"@type":"Person","person":"urn:crvs:person:847951632",` +
	`"identifier":[{"identifier_type":"UIN","identifier_value":"847951632"}],"given_name":"Amara","second_name":"Nkechi",` +
	`"surname":"Okonkwo-Adeyemi","sex":"female","birth_date":"1987-11-02","birth_place":"Enugu","death_date":null,` +
	`"marital_status":"married","nationality":"NG","mother_name":"Ngozi Okonkwo","father_name":"Chukwuemeka Okonkwo",` +
	`"household_id":"HH-2019-004417","phone_number":"+234 803 555 0142","email":"amara.okonkwo@example.org",` +
	`"address":{"address_line1":"14 Ogui Road","locality":"Enugu North","region":"EN","postal_code":"400102","country":"NG"},` +
	`"registration_date":"1987-11-20","registration_number":"CRVS/EN/1987/0031177","certificate_number":null,` +
	`"is_deceased":false,"children_count":3,"income_bracket":2,"disability_status":null,"education_level":"tertiary",` +
	`"occupation":"civil engineer","last_updated":"2024-12-01T16:40:12Z"}}}],"pagination":{"page_size":10,"page_number":1,` +
	`"total_count":1},"locale":"en"}}`

func BenchmarkValid(b *testing.B) {
	doc := []byte(searchResponse)
	for _, bench := range []struct {
		name  string
		valid func([]byte) bool
	}{
		{"encoding_json", json.Valid},
		{"rawjson", Valid},
	} {
		b.Run(bench.name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if !bench.valid(doc) {
					b.Fatal("invalid")
				}
			}
		})
	}
}

func TestDeeper(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want bool
	}{
		{`[[[]]]`, 3, false},
		{`[[[[]]]]`, 3, true},
		{`{"a":{"b":[1]}}`, 3, false},
		{`{"a":"[[[[[[","b":"\"[[[["}`, 1, false},
		{strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), MaxDepth, true},
	} {
		if got := Deeper([]byte(c.in), c.n); got != c.want {
			t.Errorf("Deeper(%.40q, %d) = %v; want %v", c.in, c.n, got, c.want)
		}
	}
}
