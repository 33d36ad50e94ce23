package hub_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// TestMissingSenderURI: an asynchronous call without header.sender_uri is answered at
// the application's callback when it registered exactly one; with none, or several, it
// is refused (ACK ERR err.sender_uri.invalid) saying why.
func TestMissingSenderURI(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	rc := &receiver{arrived: make(chan struct{}, 8)}
	partner := httptest.NewServer(rc)
	defer partner.Close()
	tests := []struct {
		inst      string
		callbacks []string
		want      string // "" the answer arrives; else in the ACK ERR
	}{
		{synth.HealthInsurer1, []string{partner.URL + "/dci/on-search"}, ""},
		{synth.HealthInsurer2, nil, "registers no callback URL"},
		{synth.HealthInsurer3, []string{partner.URL + "/a/", partner.URL + "/b/"}, "registers 2 callback URLs"},
	}
	for i, tt := range tests {
		r.setCallbacks(t, tt.inst, tt.callbacks)
		id := string(rune('a' + i))
		status, ack := post(t, r.url+"/dci/crvs/registry/search", r.token(t, tt.inst), asyncSearch("su-"+id, "sut-"+id, "", synth.FixtureNumber))
		ackStatus, corr := correlationOf(t, ack)
		if tt.want != "" {
			if status != http.StatusBadRequest || ackStatus != dci.AckErr || !strings.Contains(string(ack), dci.ErrSenderURI) || !strings.Contains(string(ack), tt.want) {
				t.Errorf("%d callbacks: %d %s; want 400 ERR %s saying %q", len(tt.callbacks), status, ack, dci.ErrSenderURI, tt.want)
			}
			continue
		}
		if status != http.StatusAccepted || ackStatus != dci.AckOK {
			t.Fatalf("one callback: %d %s; want 202 ACK", status, ack)
		}
		if cb := rc.next(t); !strings.Contains(string(cb), corr) || !strings.Contains(string(cb), `"on-search"`) {
			t.Errorf("the answer at the one callback: %s", cb)
		}
	}
}
