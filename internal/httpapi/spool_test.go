package httpapi

import (
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// TestSpool: a quarterly file's body goes to a temporary file, hashed on the way, removed
// when closed; one over the limit is refused with 413, naming the limit, and leaves no
// file behind.
func TestSpool(t *testing.T) {
	body := strings.Repeat("0123456789\n", 1000)
	rec := httptest.NewRecorder()
	f, sum, err := spool(http.MaxBytesReader(rec, io.NopCloser(strings.NewReader(body)), int64(len(body))))
	if err != nil {
		t.Fatal(err)
	}
	if sum != sha256.Sum256([]byte(body)) {
		t.Error("the hash is not the body's")
	}
	got, _ := io.ReadAll(f)
	if string(got) != body {
		t.Errorf("spooled %d bytes; want %d", len(got), len(body))
	}
	if info, err := os.Stat(f.Name()); err != nil || info.Mode().Perm()&0o077 != 0 {
		t.Errorf("the spooled file: %v, %v; want the hub user's only", info, err)
	}
	f.Close()
	if _, err := os.Stat(f.Name()); !os.IsNotExist(err) {
		t.Errorf("the spooled file is still there after Close: %v", err)
	}

	_, _, err = spool(http.MaxBytesReader(rec, io.NopCloser(strings.NewReader(body)), 100))
	if fault.KindOf(err) != fault.TooLarge || statusOf[fault.KindOf(err)] != http.StatusRequestEntityTooLarge || !strings.Contains(err.Error(), "100 bytes") {
		t.Errorf("a body over the limit: %v (%d); want 413 naming the limit", err, statusOf[fault.KindOf(err)])
	}
}
