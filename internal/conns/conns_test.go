package conns

import (
	"bufio"
	"net"
	"net/http"
	"testing"
)

// dialFrom connects to ln from the local address from (127.0.0.x all reach the
// listener on Linux).
func dialFrom(t *testing.T, ln net.Listener, from string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// refusedWith reads the answer to a refused connection: its status.
func refusedWith(t *testing.T, c net.Conn) int {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read the refusal: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestCaps(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Listen(raw, Limits{PerAddress: 2, Total: 3})
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	a1, a2 := dialFrom(t, ln, "127.0.0.1"), dialFrom(t, ln, "127.0.0.1")
	_, _ = a1, a2
	s1, s2 := <-accepted, <-accepted
	if got := refusedWith(t, dialFrom(t, ln, "127.0.0.1")); got != 429 {
		t.Errorf("a third connection from one address: %d; want 429", got)
	}
	dialFrom(t, ln, "127.0.0.2")
	<-accepted
	if got := refusedWith(t, dialFrom(t, ln, "127.0.0.3")); got != 503 {
		t.Errorf("a fourth connection in all: %d; want 503", got)
	}
	// Closing a connection frees its place.
	s1.Close()
	s2.Close()
	dialFrom(t, ln, "127.0.0.1")
	dialFrom(t, ln, "127.0.0.3")
	for range 2 {
		<-accepted
	}
}

func TestDefaultTotal(t *testing.T) {
	for _, c := range []struct {
		files uint64
		want  int
	}{{0, maxTotal}, {256, 16}, {1024, 384}, {20_000, 9872}, {1 << 20, maxTotal}} {
		if got := DefaultTotal(c.files); got != c.want {
			t.Errorf("DefaultTotal(%d) = %d; want %d", c.files, got, c.want)
		}
	}
}
