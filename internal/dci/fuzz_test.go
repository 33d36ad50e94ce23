package dci_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/dci"
)

func FuzzDecodeSearch(f *testing.F) {
	f.Add([]byte(validSearch))
	for _, q := range []string{
		`{"expression":{"collection":"Person","query":{"$and":[{"birth_date":{"$lt":"1960-01-01"}},{"address.region":{"$eq":"R01"}}]}}}`,
		`[{"seq_num":1,"expression1":{"attribute_name":"age","operator":"in","attribute_value":[1,"2"]},"condition":"or","expression2":{"attribute_name":"b","operator":"eq","attribute_value":true}}]`,
	} {
		f.Add(bytes.Replace([]byte(validSearch), []byte(`"query_type": "idtype-value",
        "query": {"type": "UIN", "value": "847951632"}`), []byte(`"query_type": "expression", "query": `+q), 1))
	}
	if files, _ := filepath.Glob("../../../shared/dci/samples/*/*req.json"); len(files) > 0 {
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := dci.DecodeSearch(body)
		if err != nil {
			if dci.CodeOf(err) == "" || dci.SafeMessage(err) == "" {
				t.Fatalf("error without code or message: %v", err)
			}
			return
		}
		for _, it := range env.Message.SearchRequest {
			if (it.Query == nil) == (it.Err == nil) {
				t.Fatalf("item %q: Query %v and Err %v", it.ReferenceID, it.Query, it.Err)
			}
			if it.Query != nil && it.Query.Filter != nil {
				if err := it.Query.Filter.Validate(); err != nil {
					t.Fatalf("decoded filter %s does not validate: %v", it.Query.Filter, err)
				}
			}
		}
		// Anything decoded re-encodes, and decodes again to the same queries.
		again, err := json.Marshal(env)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		env2, err := dci.DecodeSearch(again)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", again, err)
		}
		for i, it := range env.Message.SearchRequest {
			if it.Query != nil && !reflect.DeepEqual(it.Query, env2.Message.SearchRequest[i].Query) {
				t.Fatalf("item %d: query %+v became %+v", i, it.Query, env2.Message.SearchRequest[i].Query)
			}
		}
		// And it can be answered.
		resp, err := dci.NewSearchResponse(env, reply, make([]dci.Outcome, len(env.Message.SearchRequest)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := json.Marshal(resp); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzParseSignature(f *testing.F) {
	f.Add(`Signature: namespace="dci", kidId="sp|k1|ed25519", algorithm="ed25519", created="1", expires="2", headers="(created) (expires) digest", signature="AAAA"`)
	f.Add(`Signature:  namespace="dci", kidId="{sender_id}|{unique_key_id}|{algorithm}", algorithm="ed25519", created="1606970629", expires="1607030629", headers="(created) (expires) digest", signature="Base64(signing content)`)
	if s, err := dci.SignEd25519(sigHdr, sigMsg, "sp-mis", "key-1", edKey, created, expires); err == nil {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := dci.ParseSignature(s)
		if err != nil {
			if c := dci.CodeOf(err); c != dci.ErrSignatureInvalid && c != dci.ErrSignatureMissing {
				t.Fatalf("ParseSignature error with code %s", c)
			}
			return
		}
		again, err := dci.ParseSignature(sig.String())
		if err != nil || !reflect.DeepEqual(again, sig) {
			t.Fatalf("ParseSignature(String()) = %+v, %v; want %+v", again, err, sig)
		}
		_ = dci.VerifyEd25519(sig, sigHdr, sigMsg, pub(edKey), created)
	})
}
