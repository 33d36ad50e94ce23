package hub

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/outbound"
)

// TestReceiverChecks: the demo's receiver takes what the hub signed, and refuses an
// unsigned message, a message signed by another key, and a push without the hub's token.
func TestReceiverChecks(t *testing.T) {
	keys := oauth.NewKeySet(time.Now)
	if _, err := keys.Generate(); err != nil {
		t.Fatal(err)
	}
	other := oauth.NewKeySet(time.Now)
	if _, err := other.Generate(); err != nil {
		t.Fatal(err)
	}
	rc := newReceiver(keys, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(rc)
	defer srv.Close()
	signed := func(ks *oauth.KeySet, action string) string {
		h, _ := json.Marshal(map[string]any{"version": "1.0.0", "message_id": "m1", "message_ts": dci.Timestamp(time.Now()),
			"action": action, "sender_id": outbound.SenderID, "receiver_id": "PENSION-FUND", "total_count": 1})
		m := json.RawMessage(`{"transaction_id":"t1","notify_event":[{"reference_id":"r1"}]}`)
		s, err := ks.Current()
		if err != nil {
			t.Fatal(err)
		}
		sig, err := dci.SignEd25519With(h, m, outbound.SenderID, s.KeyID, s.Sign, time.Now(), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(map[string]any{"signature": sig, "header": json.RawMessage(h), "message": m})
		return string(b)
	}
	token := func(ks *oauth.KeySet, aud string) string {
		b, _ := json.Marshal(oauth.HubClaims{Issuer: outbound.SenderID, Audience: aud, Expires: time.Now().Add(time.Minute).Unix()})
		tok, err := ks.SignJWS(oauth.PushTokenType, b)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tests := []struct {
		name, body, token string
		want              int
	}{
		{"a notify signed by the hub, with its token", signed(keys, "notify"), token(keys, "subscriber:PENSION-FUND"), 200},
		{"an answer signed by the hub", signed(keys, "on-search"), "", 200},
		{"unsigned", `{"header":{"action":"notify"},"message":{}}`, token(keys, "subscriber:PENSION-FUND"), 401},
		{"signed by another key", signed(other, "on-search"), "", 401},
		{"a notify without a token", signed(keys, "notify"), "", 401},
		{"a notify with a token for another institution", signed(keys, "notify"), token(keys, "subscriber:MUSEUM"), 401},
		{"a notify with a token of another key", signed(keys, "notify"), token(other, "subscriber:PENSION-FUND"), 401},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+receiverPath+"notify/PENSION-FUND", strings.NewReader(tt.body))
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d %s; want %d", tt.name, resp.StatusCode, b, tt.want)
		}
	}
	resp, err := http.Get(srv.URL + receiverPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ Accepted, Refused, Events int }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got.Accepted != 2 || got.Refused != 5 || got.Events != 1 {
		t.Errorf("GET %s = %+v, %v; want 2 accepted (1 event), 5 refused", receiverPath, got, err)
	}
}

func TestOwnedByDemo(t *testing.T) {
	for endpoint, want := range map[string]bool{
		"http://127.0.0.1:9/notify/PENSION-FUND":                  true,
		"http://127.0.0.1:8080/demo/receiver/notify/PENSION-FUND": true,
		"http://127.0.0.1:41234/demo/receiver/notify/MUSEUM":      true,
		"http://127.0.0.1:9000/dci/notify":                        false,
		"https://pension.example/demo/receiver/notify/X":          false,
		"http://127.0.0.1:8080/demo/receiver/on-search":           false,
		"http://127.0.0.1:8080/elsewhere/demo/receiver/notify/X":  false,
	} {
		if got := ownedByDemo(endpoint); got != want {
			t.Errorf("ownedByDemo(%q) = %v; want %v", endpoint, got, want)
		}
	}
}
