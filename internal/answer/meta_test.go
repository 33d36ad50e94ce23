package answer

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzPlainMeta checks the fast path of header.meta against json.Unmarshal: whenever it
// takes an input, it reads what json.Unmarshal reads.
func FuzzPlainMeta(f *testing.F) {
	for _, s := range []string{`{"purpose":"benefit","fields":["given_name","family_name"],"on_date":"2026-12-04"}`,
		`{"fields":[]}`, `{"fields":null}`, `{"Fields":["a"]}`, `{"fields":["a",1]}`, `{"fields":"a"}`,
		`{"purpose":"a\u00e9\"b"}`, `{"purpose":"x","purpose":"y"}`, `{"fields":["a"],"fields":["b","c"]}`,
		`{"other":1}`, `{}`, `{"on_date":null}`, "{\"purpose\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return // meta reaches ReadMeta inside a valid message only
		}
		var fast, slow Meta
		if !plainMeta(b, &fast) {
			return
		}
		if err := json.Unmarshal(b, &slow); err != nil {
			t.Fatalf("plainMeta took %q, which json.Unmarshal refuses: %v", b, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("plainMeta(%q) = %#v; json.Unmarshal = %#v", b, fast, slow)
		}
	})
}
