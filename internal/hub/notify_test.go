package hub_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// TestForgedNotify: a notify that does not come, signed, from an authentic source of the
// registry is refused, and every refusal and acceptance is in the audit log.
func TestForgedNotify(t *testing.T) {
	r := startHub(t, false)
	ctx := context.Background()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: pub, KeyID: "n1", Algorithm: "EdDSA", Use: "sig"})
	for _, inst := range []string{synth.CivilRegistry, synth.HealthInsurer1} {
		app, _, err := directory.Get[directory.Application](ctx, r.st.Directory, synth.AppID(inst))
		if err != nil {
			t.Fatal(err)
		}
		app.Keys = []json.RawMessage{jwk}
		if _, _, err := directory.Put(ctx, r.st.Directory, "test", app, directory.AnyVersion); err != nil {
			t.Fatal(err)
		}
	}
	ts := time.Now().UTC().Format(time.RFC3339)
	header := json.RawMessage(fmt.Sprintf(`{"version":"1.0.0","message_id":"n-%d","message_ts":%q,"action":"notify","status":"succ","sender_id":"civil","total_count":1}`, time.Now().UnixNano(), ts))
	message := json.RawMessage(fmt.Sprintf(`{"transaction_id":"t-n","notify_event":[{"reference_id":"r-1","timestamp":%q,"data":{"reg_record_type":"Person","reg_records":[{"person":%q}]}}]}`, ts, synth.FixtureNumber))
	sign := func(key ed25519.PrivateKey) string {
		s, err := dci.SignEd25519(header, message, "civil", "n1", key, time.Now().Add(-time.Second), time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	body := func(sig string) string {
		return fmt.Sprintf(`{"signature":%q,"header":%s,"message":%s}`, sig, header, message)
	}
	source := r.tokenWithScope(t, synth.CivilRegistry, "registry.notify")
	notASource := r.tokenWithScope(t, synth.HealthInsurer1, "registry.notify")
	tests := []struct {
		name, token, body string
		status            int
		code              string
	}{
		{"no token", "", body(sign(priv)), 401, "err.request.unauthorized"},
		{"a token without registry.notify", r.token(t, synth.CivilRegistry), body(sign(priv)), 403, "err.request.forbidden"},
		{"not an authentic source of the registry", notASource, body(sign(priv)), 403, "err.request.forbidden"},
		{"unsigned", source, body(""), 401, "err.signature.missing"},
		{"signed with another key", source, body(sign(other)), 401, "err.signature.invalid"},
		{"signed by the source", source, body(sign(priv)), 202, `"ACK"`},
	}
	for _, tt := range tests {
		before := r.auditSize(t)
		status, b := post(t, r.url+"/dci/crvs/registry/notify", tt.token, tt.body)
		if status != tt.status || !strings.Contains(string(b), tt.code) {
			t.Errorf("%s: %d %s; want %d %s", tt.name, status, b, tt.status, tt.code)
		}
		if after := r.auditSize(t); after != before+1 {
			t.Errorf("%s: the audit log grew by %d; want 1", tt.name, after-before)
		}
	}
}
