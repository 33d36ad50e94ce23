package dci_test

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// FuzzDecodeOthers feeds the subscribe, unsubscribe and transaction status decoders:
// whatever the input, they never panic, and what they accept holds what they promise.
func FuzzDecodeOthers(f *testing.F) {
	h := `"header":{"version":"1.0.0","message_id":"m1","message_ts":"2026-11-24T10:00:00Z","action":%q,"sender_id":"s","total_count":1}`
	for _, seed := range []string{
		`{` + fmt.Sprintf(h, "subscribe") + `,"message":{"transaction_id":"t1","subscribe_request":[{"reference_id":"r1","timestamp":"2026-11-24T10:00:00Z","subscribe_criteria":{"reg_event_type":"BIRTH","filter":{},"notify_record_type":"Person","frequency":{"start_time":"2026-11-24T10:00:00Z","end_time":"2027-01-01T00:00:00Z","frequency":"0 0 * * *"}},"locale":"eng"}]}}`,
		`{` + fmt.Sprintf(h, "unsubscribe") + `,"message":{"transaction_id":"t1","timestamp":"2026-11-24T10:00:00Z","subscription_codes":["sub-1","sub-2"]}}`,
		`{` + fmt.Sprintf(h, "txn-status") + `,"message":{"transaction_id":"t1","txnstatus_request":{"reference_id":"r1","txn_type":"search","attribute_type":"transaction_id","attribute_value":"t0"}}}`,
		`{` + fmt.Sprintf(h, "txn-status") + `,"message":{"transaction_id":"t1","txnstatus_request":{"reference_id":"r1","txn_type":"subscribe","attribute_type":"subscription_code_list","attribute_value":["a","b"]}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if env, err := dci.DecodeSubscribe(body); err == nil {
			if len(env.Message.Items) == 0 || env.Message.TransactionID == "" {
				t.Fatalf("accepted a subscribe without items or transaction id: %s", body)
			}
			for _, it := range env.Message.Items {
				if it.Err == nil && (dci.EventType(it.Criteria.RegEventType) == "" || len(it.Criteria.Filter) == 0) {
					t.Fatalf("accepted an item without event type or filter: %s", body)
				}
			}
		}
		if env, err := dci.DecodeUnsubscribe(body); err == nil && len(env.Message.Codes) == 0 {
			t.Fatalf("accepted an unsubscribe without codes: %s", body)
		}
		if env, err := dci.DecodeTxnStatus(body); err == nil {
			q := env.Message.Request
			if q.Value == "" && len(q.Values) == 0 {
				t.Fatalf("accepted a status request naming nothing: %s", body)
			}
		}
	})
}
