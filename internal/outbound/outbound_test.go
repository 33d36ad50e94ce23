package outbound_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strconv"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/outbound"
)

// TestPostSends: the body as JSON, the bearer token and the other headers reach the
// receiver; a status other than 2xx is no error but not OK.
func TestPostSends(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r, must(io.ReadAll(r.Body))
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	resp, err := outbound.Post(context.Background(), nil, outbound.Request{URL: srv.URL, Body: []byte(`{"a":1}`),
		Token: "tok", Header: map[string]string{"Idempotency-Key": "k1"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusServiceUnavailable || resp.OK() {
		t.Errorf("Post() = %d, OK %v; want 503, not OK", resp.Status, resp.OK())
	}
	if got.Method != http.MethodPost || string(body) != `{"a":1}` || got.Header.Get("Content-Type") != "application/json" ||
		got.Header.Get("Authorization") != "Bearer tok" || got.Header.Get("Idempotency-Key") != "k1" {
		t.Errorf("received %s %q with headers %v; want POST {\"a\":1}, JSON, bearer tok, Idempotency-Key k1", got.Method, body, got.Header)
	}
}

// TestPostTimeout: a receiver that does not answer, or stops in the middle of its
// answer, is given up at the request's time-out.
func TestPostTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/half" {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("{"))
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	for _, path := range []string{"/silent", "/half"} {
		_, err := outbound.Post(context.Background(), nil, outbound.Request{URL: srv.URL + path, Timeout: 50 * time.Millisecond, Limit: 1 << 10})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Post(%s) = %v; want the deadline exceeded", path, err)
		}
		if path == "/half" && !errors.Is(err, outbound.ErrCutOff) {
			t.Errorf("Post(%s) = %v; want ErrCutOff", path, err)
		}
	}
}

// TestPostBounded: the answer is read up to the request's limit, whether its length
// is announced or not, and not at all without a limit.
func TestPostBounded(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 1<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("length") == "1" {
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
		}
		_, _ = w.Write(big)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		query string
		limit int64
		want  int
	}{
		{"length=1", 1000, 1000}, {"length=0", 1000, 1000}, {"length=1", 2 << 20, 1 << 20},
		{"length=0", 2 << 20, 1 << 20}, {"length=1", 0, 0},
	} {
		resp, err := outbound.Post(context.Background(), nil, outbound.Request{URL: srv.URL + "?" + tc.query, Limit: tc.limit})
		if err != nil || len(resp.Body) != tc.want {
			t.Errorf("Post(%s, limit %d) = %d bytes, %v; want %d", tc.query, tc.limit, len(resp.Body), err, tc.want)
		}
	}
}

// TestPostDrains: an answer nobody reads is drained, so the next request to the same
// receiver takes the same connection.
func TestPostDrains(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte("x"), 10<<10))
	}))
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	var reused []bool
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }})
	for range 2 {
		if _, err := outbound.Post(ctx, c, outbound.Request{URL: srv.URL}); err != nil {
			t.Fatal(err)
		}
	}
	if len(reused) != 2 || !reused[1] {
		t.Errorf("connections reused: %v; want the second request on the first's connection", reused)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
