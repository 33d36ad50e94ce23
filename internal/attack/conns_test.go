package attack_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/conns"
	"github.com/crossroads-hub/crossroads/internal/httpapi"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/synth"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// dialFrom opens a connection to the hub from the local address from (127.0.0.x: every
// such address reaches the hub on Linux).
func (tg *target) dialFrom(t *testing.T, from string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", strings.TrimPrefix(tg.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// healthFrom asks /healthz from the address from and returns the status (0: no answer).
func (tg *target) healthFrom(t *testing.T, from string) int {
	t.Helper()
	c := tg.dialFrom(t, from)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A client holding connections open (a request begun and never finished) cannot take
// them all: beyond its address's cap it is refused at once, and others still get in
// (#13, F3: 20,100 slow uploads exhausted the file limit; /healthz and the token
// endpoint answered no one).
func TestConnectionsAreCappedPerAddress(t *testing.T) {
	tg := start(t, func(c *hub.Config) { c.Conns = &conns.Limits{PerAddress: 8, Total: 12} })
	held := make([]net.Conn, 8)
	for i := range held {
		held[i] = tg.dialFrom(t, "127.0.0.1")
		fmt.Fprintf(held[i], "POST /exchange/batch HTTP/1.1\r\nHost: hub\r\nContent-Type: text/plain\r\nContent-Length: 100000000\r\n\r\n1")
	}
	testwait.For(t, 10*time.Second, func() error {
		if got := tg.healthFrom(t, "127.0.0.1"); got != http.StatusTooManyRequests {
			return fmt.Errorf("/healthz from the address holding 8 connections: %d; want 429", got)
		}
		return nil
	})
	if got := tg.healthFrom(t, "127.0.0.2"); got != http.StatusOK {
		t.Errorf("/healthz from another address: %d; want 200", got)
	}
	// Another address holding connections too reaches the total: refused with 503.
	for range 4 {
		fmt.Fprintf(tg.dialFrom(t, "127.0.0.3"), "POST /exchange/batch HTTP/1.1\r\nHost: hub\r\nContent-Length: 100\r\n\r\n")
	}
	testwait.For(t, 10*time.Second, func() error {
		if got := tg.healthFrom(t, "127.0.0.4"); got != http.StatusServiceUnavailable {
			return fmt.Errorf("/healthz with 12 connections open: %d; want 503", got)
		}
		return nil
	})
	for _, c := range held {
		c.Close()
	}
	testwait.For(t, 10*time.Second, func() error {
		if got := tg.healthFrom(t, "127.0.0.1"); got != http.StatusOK {
			return fmt.Errorf("/healthz once the connections closed: %d; want 200", got)
		}
		return nil
	})
}

// A body that trickles in (a byte now and then) is cut with 408 once its grace has
// passed, with a token or without, so a connection cannot be held by a slow upload.
func TestSlowUploadsAreCut(t *testing.T) {
	tg := start(t, func(c *hub.Config) { c.Uploads = &httpapi.Uploads{Rate: 1 << 10, Grace: 300 * time.Millisecond} })
	tok := tg.token(t, synth.PensionFund)
	for _, c := range []struct{ name, path, auth, contentType string }{
		{"batch without a token", "/exchange/batch", "", "text/plain"},
		{"batch", "/exchange/batch", tok, "text/plain"},
		{"DCI search", "/dci/crvs/registry/sync/search", tok, "application/json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := tg.dialFrom(t, "127.0.0.1")
			_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
			auth := ""
			if c.auth != "" {
				auth = "Authorization: Bearer " + c.auth + "\r\n"
			}
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: hub\r\n%sContent-Type: %s\r\nContent-Length: 100000\r\n\r\n{", c.path, auth, c.contentType)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer to a stalled upload: %v", err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusRequestTimeout {
				t.Errorf("a stalled upload: %d; want 408", resp.StatusCode)
			}
		})
	}
	// A body that arrives at once is not held to anything.
	files := tg.files(t, synth.PensionFund, today(), 1)
	if status, _, body := tg.do(t, "POST", "/exchange/batch", tok, "text/plain", []byte(files[0].Person+"\n")); status != http.StatusOK {
		t.Errorf("a batch sent at once: %d %s", status, clip(body))
	}
}
