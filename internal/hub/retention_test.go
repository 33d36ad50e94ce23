package hub_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bus"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// TestRelayAfterStreamAgedOut: the event streams keep messages by age, so a hub stopped
// long enough finds MUTATIONS empty; it resumes relaying from the position it kept apart,
// not from the register's end, and a change recorded while it was down still arrives.
func TestRelayAfterStreamAgedOut(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	d := r.st.Directory
	mover := fileHolder(t, r, synth.PensionFund, synth.CapacityPensioner, 5, nil)
	b := &inbox{}
	srv := httptest.NewServer(b)
	defer srv.Close()
	pushTo(t, r, synth.PensionFund, srv.URL+"/notify")
	p, _ := r.st.Civil.Population().Person(ctx, mover)
	move := func(street string) string {
		return fmt.Sprintf(`{"type":"address","person":%q,"date":%q,"address":{"street":%q,"house_number":"1","postal_code":"1000","municipality":%q,"region":%q}}`,
			mover, d.Today(), street, p.Address.Municipality, p.Address.Region)
	}
	if status, body := post(t, r.url+"/admin/civil/events", r.admin, move("First Street")); status != 201 {
		t.Fatalf("a move: %d %s", status, body)
	}
	if b.waitFor("First Street", 10*time.Second) == "" {
		t.Fatal("the first move was not delivered")
	}
	r.stop()

	// The stream's messages age out while the hub is stopped; a move is recorded meanwhile.
	bs, err := bus.Open(ctx, bus.Config{Dir: filepath.Join(testNation(t), "nats"), Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	err = bs.Purge(ctx, "MUTATIONS", "", 0)
	bs.Close()
	if err != nil {
		t.Fatal(err)
	}
	st, err := hub.Open(ctx, config(testNation(t)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Civil.Population().Record(ctx, population.Event{Type: population.EventAddress, Person: mover, Date: d.Today()},
		func(p *population.Person) error { p.Address.Street = "Second Street"; return nil })
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	startHub(t, false)
	if b.waitFor("Second Street", 10*time.Second) == "" {
		t.Error("the move recorded while the hub was stopped, after the stream aged out, was not delivered")
	}
}
