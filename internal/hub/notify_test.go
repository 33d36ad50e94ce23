package hub_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// signingKey makes an Ed25519 key, registers it (key id kid) as the one key of the
// applications of institutions, and returns its private part.
func (r *running) signingKey(t *testing.T, kid string, institutions ...string) ed25519.PrivateKey {
	t.Helper()
	ctx := context.Background()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: "EdDSA", Use: "sig"})
	for _, inst := range institutions {
		app, _, err := directory.Get[directory.Application](ctx, r.st.Directory, synth.AppID(inst))
		if err != nil {
			t.Fatal(err)
		}
		app.Keys = []json.RawMessage{jwk}
		if _, _, err := directory.Put(ctx, r.st.Directory, "test", app, directory.AnyVersion); err != nil {
			t.Fatal(err)
		}
	}
	return priv
}

// TestForgedNotify: a notify that does not come, signed, from an authentic source of the
// registry is refused, and every refusal and acceptance is in the audit log.
func TestForgedNotify(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	priv := r.signingKey(t, "n1", synth.CivilRegistry, synth.HealthInsurer1)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
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
		{"a token without registry.notify", r.tokenWithScope(t, synth.CivilRegistry, "registry.search"), body(sign(priv)), 403, "err.request.forbidden"},
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

// TestRemoteNotifyRouted: the changes a source notifies reach the institutions with a
// file, a subscription and an authorization, as the register's do; a notify sent twice
// is routed once.
func TestRemoteNotifyRouted(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	d := r.st.Directory
	today := d.Today()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: pub, KeyID: "n2", Algorithm: "EdDSA", Use: "sig"})
	app, _, err := directory.Get[directory.Application](ctx, d, synth.AppID(synth.CivilRegistry))
	if err != nil {
		t.Fatal(err)
	}
	app.Keys = []json.RawMessage{jwk}
	if _, _, err := directory.Put(ctx, d, "test", app, directory.AnyVersion); err != nil {
		t.Fatal(err)
	}
	b := &inbox{}
	srv := httptest.NewServer(b)
	defer srv.Close()
	sub, _, err := directory.Get[directory.Subscription](ctx, d, "sub-"+strings.ToLower(synth.PensionFund))
	if err != nil {
		t.Fatal(err)
	}
	sub.Endpoint = srv.URL + "/notify"
	if _, _, err := directory.Put(ctx, d, "test", sub, directory.AnyVersion); err != nil {
		t.Fatal(err)
	}
	page, _ := d.Store().Integrations(ctx, directory.IntegrationQuery{Institution: synth.PensionFund, Day: today, Limit: 1})
	person := page[0].Person
	waitPushing(t, r, sub.ID, sub.Endpoint)
	ts := time.Now().UTC().Format(time.RFC3339)
	token := r.tokenWithScope(t, synth.CivilRegistry, "registry.notify")
	// notify sends the death of person, transaction tx, times times; it returns the key of
	// the pension fund's copy.
	notify := func(tx string, times int) string {
		header := json.RawMessage(fmt.Sprintf(`{"version":"1.0.0","message_id":%q,"message_ts":%q,"action":"notify","status":"succ","sender_id":"civil","total_count":1}`, tx, ts))
		message := json.RawMessage(fmt.Sprintf(`{"transaction_id":%q,"notify_event":[{"reference_id":"r-1","timestamp":%q,"data":{"reg_event_type":"spdci-common:RegistryEventType:Death","reg_record_type":"Person","reg_records":[{"person":%q,"death_date":%q,"given_name":"X","nationality":"XCR"}]}}]}`,
			tx, ts, person, today.String()))
		sig, err := dci.SignEd25519(header, message, "civil", "n2", priv, time.Now().Add(-time.Second), time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		for range times {
			if status, body := post(t, r.url+"/dci/crvs/registry/notify", token, fmt.Sprintf(`{"signature":%q,"header":%s,"message":%s}`, sig, header, message)); status != 202 {
				t.Fatalf("notify: %d %s", status, body)
			}
		}
		return "remote:" + synth.CivilRegistry + ":" + tx + "/r-1/0/" + sub.ID
	}
	key := notify(fmt.Sprintf("rn-%d", time.Now().UnixNano()), 2)
	got := b.waitFor(key, 10*time.Second)
	if got == "" {
		t.Fatalf("the pension fund did not receive the notified death of %s", person)
	}
	if strings.Contains(got, "nationality") {
		t.Errorf("the copy carries a field outside the pension fund's authorization: %s", got)
	}
	// A later change about the same person takes the same lanes, in order: once it
	// arrived, a repeat of the first would have too.
	if b.waitFor(notify(fmt.Sprintf("rn-later-%d", time.Now().UnixNano()), 1), 10*time.Second) == "" {
		t.Fatal("the pension fund did not receive the later change")
	}
	b.mu.Lock()
	n := 0
	for _, k := range b.keys {
		if k == key {
			n++
		}
	}
	b.mu.Unlock()
	if n != 1 {
		t.Errorf("the change notified twice was delivered %d times; want once", n)
	}
}

// TestRemoteFarmerNotifyLabels: a change a farmer registry notifies is pushed to the
// subscribers with that registry's reg_type, and the reg_record_type it gave, not the
// civil register's.
func TestRemoteFarmerNotifyLabels(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	d := r.st.Directory
	priv := r.signingKey(t, "nf", synth.SocialRegistry) // the farmer registry's institution
	b := &inbox{}
	srv := httptest.NewServer(b)
	defer srv.Close()
	inst := synth.HealthInsurer1 // a file on the fixture person, authorized for the farmer registry
	sub, _, err := directory.Get[directory.Subscription](ctx, d, "sub-"+strings.ToLower(inst))
	if err != nil {
		t.Fatal(err)
	}
	sub.Endpoint, sub.Mode, sub.Status = srv.URL+"/notify", directory.ModePush, ""
	if !slices.Contains(sub.EventTypes, "registration") {
		sub.EventTypes = append(sub.EventTypes, "registration")
	}
	if _, _, err := directory.Put(ctx, d, "test", sub, directory.AnyVersion); err != nil {
		t.Fatal(err)
	}
	token := r.tokenWithScope(t, synth.SocialRegistry, "registry.notify")
	n := 0
	var got *received
	// The hub picks the subscription's endpoint up within a second or two: the change is
	// notified again (a new transaction each time) until a copy arrives.
	waitFor(t, "the farmer registry's change pushed to "+inst, func() bool {
		n++
		ts := time.Now().UTC().Format(time.RFC3339)
		tx := fmt.Sprintf("fn-%d-%d", time.Now().UnixNano(), n)
		header := json.RawMessage(fmt.Sprintf(`{"version":"1.0.0","message_id":%q,"message_ts":%q,"action":"notify","status":"succ","sender_id":"farmers","total_count":1}`, tx, ts))
		message := json.RawMessage(fmt.Sprintf(`{"transaction_id":%q,"notify_event":[{"reference_id":"r-1","timestamp":%q,"data":{"reg_type":"ns:org:RegistryType:Farmer","reg_event_type":"REGISTER","reg_record_type":"FarmerRecord","reg_records":[{"person":%q,"farmer_id":"FARMER-TEST-001"}]}}]}`,
			tx, ts, synth.FixtureNumber))
		sig, err := dci.SignEd25519(header, message, "farmers", "nf", priv, time.Now().Add(-time.Second), time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if status, body := post(t, r.url+"/dci/fr/registry/notify", token, fmt.Sprintf(`{"signature":%q,"header":%s,"message":%s}`, sig, header, message)); status != 202 {
			t.Fatalf("notify: %d %s", status, body)
		}
		got = b.waitForEvent(synth.FixtureNumber, "registration", 500*time.Millisecond)
		return got != nil
	})
	for _, want := range []string{`"reg_type":"ns:org:RegistryType:FR"`, `"reg_record_type":"FarmerRecord"`} {
		if !strings.Contains(got.Raw, want) {
			t.Errorf("the pushed change lacks %s: %s", want, got.Raw)
		}
	}
}
