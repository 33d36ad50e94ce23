package dci

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzPlainCounts checks the fast paths for counts and pagination against
// json.Unmarshal: whenever they take an input, they read what it reads.
func FuzzPlainCounts(f *testing.F) {
	for _, s := range []string{`1`, `0`, `007`, `123456789`, `1234567890`, `-1`, `1.0`, `1e1`, `"1"`, ` 1`,
		`{"page_size":10,"page_number":2}`, `{"page_size":10}`, `{"PAGE_SIZE":10}`, `{"page_size":10,"page_size":3}`,
		`{"page_size":"10"}`, `{"page_size":10,"x":1}`, `{}`, `null`, `{"page_number":0,"page_size":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if n, ok := plainCount(b); ok {
			var want Count
			if err := json.Unmarshal(b, &want); err != nil || n != want {
				t.Fatalf("plainCount(%q) = %d; json.Unmarshal = %d, %v", b, n, want, err)
			}
		}
		if !json.Valid(b) {
			return // pagination reaches the fast path with valid JSON only
		}
		var fast, slow struct {
			PageSize   *Count `json:"page_size"`
			PageNumber *Count `json:"page_number"`
		}
		if !plainPagination(b, &fast.PageSize, &fast.PageNumber) {
			return
		}
		if err := json.Unmarshal(b, &slow); err != nil {
			t.Fatalf("plainPagination took %q, which json.Unmarshal refuses: %v", b, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("plainPagination(%q) = %+v; json.Unmarshal = %+v", b, fast, slow)
		}
	})
}
