package hub_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// connCounter counts a test server's open connections.
type connCounter struct {
	mu   sync.Mutex
	open map[net.Conn]bool
}

func (c *connCounter) track(conn net.Conn, state http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open == nil {
		c.open = map[net.Conn]bool{}
	}
	switch state {
	case http.StateNew:
		c.open[conn] = true
	case http.StateClosed, http.StateHijacked:
		delete(c.open, conn)
	}
}

func (c *connCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.open)
}

// countedServer serves h and counts its open connections.
func countedServer(t *testing.T, h http.Handler) (*httptest.Server, *connCounter) {
	c := &connCounter{}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = c.track
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, c
}

// TestIdleConnectionsClosed: the hub closes its idle connections to a callback URL and
// to a push subscriber within a second or two of the last message, so that a receiver
// shutting down is not kept waiting by the hub's keep-alive.
func TestIdleConnectionsClosed(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()

	rc := &receiver{arrived: make(chan struct{}, 4)}
	partner, conns := countedServer(t, rc)
	inst := synth.HealthInsurer1
	r.setCallbacks(t, inst, []string{partner.URL + "/"})
	status, ack := post(t, r.url+"/dci/crvs/registry/search", r.token(t, inst), asyncSearch("idle-1", "idle-t1", partner.URL+"/on-search", synth.FixtureNumber))
	if s, _ := correlationOf(t, ack); status != http.StatusAccepted || s != dci.AckOK {
		t.Fatalf("async search: %d %s", status, ack)
	}
	rc.next(t)
	waitFor(t, "the callback's connection to close", func() bool { return conns.count() == 0 })

	b := &inbox{}
	subscriber, pushConns := countedServer(t, b)
	sub, _, err := directory.Get[directory.Subscription](ctx, r.st.Directory, "sub-"+strings.ToLower(inst))
	if err != nil {
		t.Fatal(err)
	}
	sub.Endpoint, sub.Mode, sub.Status = subscriber.URL+"/notify", directory.ModePush, ""
	if !slices.Contains(sub.EventTypes, "address") {
		sub.EventTypes = append(sub.EventTypes, "address")
	}
	if _, _, err := directory.Put(ctx, r.st.Directory, "test", sub, directory.AnyVersion); err != nil {
		t.Fatal(err)
	}
	mover := fileHolder(t, r, inst, "", 5, nil)
	p, err := r.st.Civil.Population().Person(ctx, mover)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf(`{"street":"Idle Street","house_number":"1","postal_code":"9999","municipality":%q,"region":%q}`, p.Address.Municipality, p.Address.Region)
	// The hub picks the subscription's new endpoint up within a second or two: a move
	// declared before may go to the old one, so moves are declared until one arrives.
	waitFor(t, "a push to the subscriber", func() bool {
		if status, body := post(t, r.url+"/admin/civil/events", r.admin, `{"type":"address","person":"`+mover+`","date":"`+r.st.Directory.Today().String()+`","address":`+addr+`}`); status != 201 {
			t.Fatalf("a move: %d %s", status, body)
		}
		return b.waitForEvent(mover, "address", 500*time.Millisecond) != nil
	})
	waitFor(t, "the push's connection to close", func() bool { return pushConns.count() == 0 })
}
