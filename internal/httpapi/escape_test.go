package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestErrorNotHTMLEscaped: an error's message reads as written ("Bearer <token>"), not as
// JSON escaped for HTML ("\u003ctoken\u003e").
func TestErrorNotHTMLEscaped(t *testing.T) {
	h := newHub(t)
	resp, err := http.Get(h.url + "/admin/institutions")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), "Bearer <token>") {
		t.Errorf("GET /admin/institutions without a token = %d %s; want 401 naming 'Bearer <token>'", resp.StatusCode, b)
	}
}
