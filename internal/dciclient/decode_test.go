package dciclient

import (
	"encoding/json"
	"testing"
)

const answerSample = `{"signature":"","header":{"version":"1.0.0","message_id":"m","message_ts":"2026-12-04T10:00:00Z","action":"on-search","status":"succ","total_count":1,"completed_count":1,"sender_id":"s","receiver_id":"r"},` +
	`"message":{"transaction_id":"t","correlation_id":"c","search_response":[{"reference_id":"r1","timestamp":"2026-12-04T10:00:00Z","status":"succ",` +
	`"data":{"version":"1.0.0","reg_type":"ns:org:RegistryType:Civil","reg_record_type":"Person","reg_records":[{"person":"85061500118","given_name":"Test"},{"person":"x\u00e9"}]},` +
	`"pagination":{"page_size":10,"page_number":1,"total_count":"2"},"locale":"eng"}]}}`

func TestDecodeAnswer(t *testing.T) {
	res, err := decodeAnswer([]byte(answerSample))
	if err != nil || res.Total != 2 || len(res.Raw) != 2 || res.Raw[0].Person != "85061500118" || res.Raw[1].Person != "xé" {
		t.Fatalf("decodeAnswer = %+v, %v", res, err)
	}
	for _, bad := range []string{`{`, `[]`, `{"message":{"search_response":[]}}`, `{"message":{"search_response":[{"status":"rjct","status_reason_message":"no"}]}}`,
		`{"message":{"search_response":[{"status":"succ","data":{"reg_records":[1]}}]}}`} {
		if _, err := decodeAnswer([]byte(bad)); err == nil {
			t.Errorf("decodeAnswer(%s) took it", bad)
		}
	}
}

// FuzzDecodeAnswer: a source's answer, whatever it is, is decoded or refused, never a
// panic; every record taken is a JSON object whose person is what encoding/json reads.
func FuzzDecodeAnswer(f *testing.F) {
	f.Add([]byte(answerSample))
	f.Add([]byte(`{"message":{"search_response":[{"status":"succ","data":{"reg_records":{"person":"1"}}}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := decodeAnswer(b)
		if err != nil {
			return
		}
		for _, r := range res.Raw {
			var m map[string]any
			if err := json.Unmarshal(r.JSON, &m); err != nil {
				t.Fatalf("record %s is not a JSON object: %v", r.JSON, err)
			}
			if p, _ := m["person"].(string); p != r.Person {
				t.Fatalf("record %s: person %q, encoding/json reads %q", r.JSON, r.Person, p)
			}
		}
	})
}
