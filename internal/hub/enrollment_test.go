package hub_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/dci/dcitest"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// TestEnrollmentUpdates: IBR's sync/enrollment/updates is taken only from an authentic
// source of the beneficiary registry, signed; each beneficiary naming a person number is
// accepted (and becomes an enrolment change), the others rejected item by item; every
// message, accepted or refused, is recorded.
func TestEnrollmentUpdates(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	priv := r.signingKey(t, "e1", synth.SocialRegistry, synth.HealthInsurer1)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	ts := time.Now().UTC().Format(time.RFC3339)
	header := json.RawMessage(fmt.Sprintf(`{"version":"1.0.0","message_id":"e-%d","message_ts":%q,"action":"notify","status":"succ","sender_id":"sp-system","total_count":2}`, time.Now().UnixNano(), ts))
	message := json.RawMessage(fmt.Sprintf(`{"transaction_id":"t-e1","enrolled_updates":{"beneficiaries":[`+
		`{"reference_id":"b-1","person":%q,"programme":"child-benefit","status":"enrolled"},{"person":"not-a-number","programme":"child-benefit"}]}}`, synth.FixtureNumber))
	sign := func(key ed25519.PrivateKey) string {
		s, err := dci.SignEd25519(header, message, "sp-system", "e1", key, time.Now().Add(-time.Second), time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	body := func(sig string) string {
		return fmt.Sprintf(`{"signature":%q,"header":%s,"message":%s}`, sig, header, message)
	}
	source := r.tokenWithScope(t, synth.SocialRegistry, "registry.notify")
	notASource := r.tokenWithScope(t, synth.HealthInsurer1, "registry.notify")
	url := r.url + "/dci/ibr/registry/sync/enrollment/updates"
	spec := dcitest.Spec(t, "ibr_api_v1.0.0.yaml")
	tests := []struct {
		name, token, body string
		status            int
		want              []string
	}{
		{"no token", "", body(sign(priv)), 401, []string{"err.request.unauthorized"}},
		{"a token without registry.notify", r.tokenWithScope(t, synth.SocialRegistry, "registry.search"), body(sign(priv)), 403, []string{"err.request.forbidden"}},
		{"not a source of the beneficiary registry", notASource, body(sign(priv)), 403, []string{"err.request.forbidden"}},
		{"unsigned", source, body(""), 401, []string{"err.signature.missing"}},
		{"signed with another key", source, body(sign(other)), 401, []string{"err.signature.invalid"}},
		{"signed by the source", source, body(sign(priv)), 200, []string{`"enrolled_response"`, `"reference_id":"b-1"`, `"status":"succ"`, `"reference_id":"2"`, `"status":"rjct"`}},
	}
	for _, tt := range tests {
		before := r.auditSize(t)
		status, b := post(t, url, tt.token, tt.body)
		for _, want := range tt.want {
			if status != tt.status || !strings.Contains(string(b), want) {
				t.Errorf("%s: %d %s; want %d with %s", tt.name, status, b, tt.status, want)
			}
		}
		if status == 200 {
			dcitest.ValidateResponse(t, spec, "/registry/sync/enrollment/updates", status, b)
		}
		if after := r.auditSize(t); after != before+1 {
			t.Errorf("%s: the audit log grew by %d; want 1", tt.name, after-before)
		}
	}
}
