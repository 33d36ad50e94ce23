package cluster

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// replica is a test server that counts the requests it received and echoes their body.
func replica(t *testing.T, name string, got *atomic.Int64) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Replica", name)
		w.Write(b)
	}))
	t.Cleanup(s.Close)
	return s
}

// refusedAddr is an address nothing listens on (a port taken and let go).
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func post(t *testing.T, h http.Handler, body string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/dci/crvs/registry/sync/search", strings.NewReader(body)))
	return w
}

// TestBalancerRoundRobin: requests go to each replica in turn, with their body.
func TestBalancerRoundRobin(t *testing.T) {
	var a, b atomic.Int64
	lb := NewBalancer([]string{replica(t, "a", &a).URL, replica(t, "b", &b).URL})
	for i := range 10 {
		w := post(t, lb, "hello")
		if w.Code != 200 || w.Body.String() != "hello" {
			t.Fatalf("request %d = %d %q; want 200 hello", i, w.Code, w.Body.String())
		}
	}
	if a.Load() != 5 || b.Load() != 5 {
		t.Errorf("replicas received %d and %d; want 5 each", a.Load(), b.Load())
	}
	if served, failed := lb.Stats(); served[0] != 5 || served[1] != 5 || failed != 0 {
		t.Errorf("Stats = %v, %d; want [5 5], 0", served, failed)
	}
}

// TestBalancerSkipsRefused: a replica that refuses connections (stopped) is skipped, the
// request answered by the next, nothing lost; with none accepting, 503.
func TestBalancerSkipsRefused(t *testing.T) {
	var a atomic.Int64
	lb := NewBalancer([]string{refusedAddr(t), replica(t, "a", &a).URL, refusedAddr(t)})
	for i := range 9 {
		if w := post(t, lb, "x"); w.Code != 200 || w.Header().Get("X-Replica") != "a" {
			t.Fatalf("request %d = %d from %q; want 200 from a", i, w.Code, w.Header().Get("X-Replica"))
		}
	}
	if a.Load() != 9 {
		t.Errorf("the replica that runs received %d; want 9", a.Load())
	}
	none := NewBalancer([]string{refusedAddr(t), refusedAddr(t)})
	if w := post(t, none, "x"); w.Code != http.StatusServiceUnavailable {
		t.Errorf("with no replica up = %d; want 503", w.Code)
	}
}

// TestBalancerNeverRepeatsReceived: a replica that received a request and died before
// answering (the connection cut, here a kept-alive one it answered on before) makes the
// balancer answer 502; the request is not sent again, to it or to another replica, where
// it would be a second exchange.
func TestBalancerNeverRepeatsReceived(t *testing.T) {
	var dying, other atomic.Int64
	d := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := dying.Add(1)
		io.ReadAll(r.Body)
		if n == 1 {
			w.Write([]byte("first")) // answered: the connection is kept alive
			return
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // dies with the request in hand
		}
	}))
	defer d.Close()
	lb := NewBalancer([]string{d.URL, replica(t, "other", &other).URL})
	lb.next.Store(uint64(len(lb.backends)) - 1) // the next request goes to the dying one
	if w := post(t, lb, "first"); w.Code != 200 {
		t.Fatalf("first request = %d; want 200", w.Code)
	}
	if w := post(t, lb, "second"); w.Code != 200 {
		t.Fatalf("second request = %d; want 200", w.Code)
	}
	w := post(t, lb, "exchange")
	if w.Code != http.StatusBadGateway {
		t.Errorf("a request the replica received and did not answer = %d; want 502", w.Code)
	}
	if dying.Load() != 2 || other.Load() != 1 {
		t.Errorf("received by the dying replica %d times, by the other %d; want 2 and 1 (nothing sent again)", dying.Load(), other.Load())
	}
	if _, failed := lb.Stats(); failed != 1 {
		t.Errorf("failed = %d; want 1", failed)
	}
}

// TestBalancerLargeBody: a body over what the balancer holds is streamed to one replica,
// whole.
func TestBalancerLargeBody(t *testing.T) {
	var a atomic.Int64
	lb := NewBalancer([]string{replica(t, "a", &a).URL})
	big := strings.Repeat("x", maxBuffered+10)
	w := post(t, lb, big)
	if w.Code != 200 || w.Body.Len() != len(big) {
		t.Errorf("a large body = %d, %d bytes back; want 200, %d", w.Code, w.Body.Len(), len(big))
	}
}
