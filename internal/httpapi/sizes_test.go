package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSizesOnMetrics: the in-memory structures that grow with traffic show their size
// and their bound on /metrics, and the memory of message ids keeps to its bound.
func TestSizesOnMetrics(t *testing.T) {
	s := NewServer(Deps{RecentMessages: 3, Sizes: map[string]Size{
		"crossroads_test_structure": {Help: "A structure of the wiring.", Len: func() int { return 7 }, Max: 9},
	}})
	now := time.Now()
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		if s.recent.seen("app\x00"+id, now) {
			t.Fatalf("message %s seen before it was sent", id)
		}
	}
	if !s.recent.seen("app\x00d", now) || s.recent.seen("other\x00d", now) {
		t.Errorf("the memory of message ids confuses applications or forgets too soon")
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		"\ncrossroads_recent_message_ids 6\n", // two generations of 3: a, b, c; then d, e and other's d
		"\ncrossroads_recent_message_ids_max 6\n",
		"\ncrossroads_source_tokens 0\n",
		"\ncrossroads_test_structure 7\n",
		"\ncrossroads_test_structure_max 9\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
		}
	}
}
