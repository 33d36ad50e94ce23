package dci

import "testing"

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
