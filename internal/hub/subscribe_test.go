package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/dci/dcitest"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// tokenWithScope gets an access token with the given scopes (none: the application's)
// for institution's application, with a new secret.
func (r *running) tokenWithScope(t *testing.T, institution string, scopes ...string) string {
	t.Helper()
	secret, err := r.st.Directory.IssueClientSecret(context.Background(), "test", synth.AppID(institution))
	if err != nil {
		t.Fatal(err)
	}
	return tokenFor(t, r.url, synth.AppID(institution), secret, scopes...)
}

func subscribeBody(messageID, senderURI string, eventTypes ...string) string {
	ts := time.Now().UTC().Format(time.RFC3339)
	var items []string
	for i, e := range eventTypes {
		items = append(items, fmt.Sprintf(`{"reference_id":"r-%d","timestamp":%q,"subscribe_criteria":{"reg_type":"ns:org:RegistryType:Civil","reg_event_type":%q,`+
			`"frequency":{"start_time":%q,"end_time":"2030-01-01T00:00:00Z","frequency":"0 0 * * *"},"filter_type":"idtype-value","filter":{"type":"PN","value":"85061500118"},"notify_record_type":"Person"},"locale":"eng"}`, i, ts, e, ts))
	}
	return fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":%q,"message_ts":%q,"action":"subscribe","sender_id":"test","sender_uri":%q,"total_count":%d},`+
		`"message":{"transaction_id":%q,"subscribe_request":[%s]}}`, run+messageID, ts, senderURI, len(items), run+messageID, strings.Join(items, ","))
}

func unsubscribeBody(messageID, senderURI string, codes ...string) string {
	ts := time.Now().UTC().Format(time.RFC3339)
	list, _ := json.Marshal(codes)
	return fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":%q,"message_ts":%q,"action":"unsubscribe","sender_id":"test","sender_uri":%q,"total_count":%d},`+
		`"message":{"transaction_id":%q,"timestamp":%q,"subscription_codes":%s}}`, run+messageID, ts, senderURI, len(codes), run+messageID, ts, list)
}

// TestSubscribe: subscriptions through DCI are authorized, issued a code, kept in the
// directory, listed through txn status, cancelled by their owner only; every message
// and callback valid against the CRVS document.
func TestSubscribe(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	rc := &receiver{arrived: make(chan struct{}, 8)}
	partner := httptest.NewServer(rc)
	defer partner.Close()
	for _, inst := range []string{synth.HealthInsurer1, synth.Museum} {
		r.setCallbacks(t, inst, []string{partner.URL + "/"})
	}
	spec := dcitest.Spec(t, "crvs_api_v1.0.0.yaml")
	base := r.url + "/dci/crvs/registry/"
	token := r.tokenWithScope(t, synth.HealthInsurer1, "registry.subscribe registry.search")
	if status, _ := post(t, base+"subscribe", r.tokenWithScope(t, synth.HealthInsurer1, "registry.search"), subscribeBody("sub-0", partner.URL+"/cb", "BIRTH")); status != http.StatusForbidden {
		t.Errorf("subscribe with a token for search only: %d; want 403", status)
	}

	status, ack := post(t, base+"subscribe", token, subscribeBody("sub-1", partner.URL+"/cb", "spdci-common:RegistryEventType:LiveBirth", "ALIENS"))
	if status != http.StatusAccepted {
		t.Fatalf("subscribe: %d %s", status, ack)
	}
	dcitest.ValidateResponse(t, spec, "/registry/subscribe", status, ack)
	cb := rc.next(t)
	dcitest.ValidateRequest(t, spec, "/registry/on-subscribe", cb)
	checkHubSignature(t, r.url, cb)
	var on struct {
		Message dci.SubscribeResponse `json:"message"`
	}
	if err := json.Unmarshal(cb, &on); err != nil || len(on.Message.Items) != 2 {
		t.Fatalf("on-subscribe %s: %v", cb, err)
	}
	ok, bad := on.Message.Items[0], on.Message.Items[1]
	if ok.Status != "succ" || len(ok.Subscriptions) != 1 || ok.Subscriptions[0].Status != "subscribe" {
		t.Fatalf("first item: %+v; want a subscription", ok)
	}
	if bad.Status != "rjct" || bad.StatusReasonCode != dci.RjctNotifyTypesInvalid {
		t.Errorf("second item: %+v; want rjct %s", bad, dci.RjctNotifyTypesInvalid)
	}
	code := ok.Subscriptions[0].Code
	sub, _, err := directory.Get[directory.Subscription](ctx, r.st.Directory, code)
	if err != nil || sub.Institution != synth.HealthInsurer1 || sub.EventTypes[0] != "birth" || len(sub.Capacities) == 0 ||
		sub.Endpoint != partner.URL+"/cb" || !sub.Active() || sub.Registry != "crvs" {
		t.Errorf("directory subscription %s: %+v, %v", code, sub, err)
	}

	// Status by subscription codes.
	status, body := post(t, base+"sync/txn/status", token, subscriptionStatusBody("st-1", code, "sub-nope"))
	if status != 200 || !strings.Contains(string(body), code) || !strings.Contains(string(body), "sub-nope") {
		t.Errorf("status by codes: %d %s", status, body)
	}
	dcitest.ValidateResponse(t, spec, "/registry/sync/txn/status", status, body)

	// An institution without authorization gets no subscription.
	status, _ = post(t, base+"subscribe", r.tokenWithScope(t, synth.Museum, "registry.subscribe"), subscribeBody("sub-m", partner.URL+"/cb", "DEATH"))
	if status != http.StatusAccepted {
		t.Fatalf("museum subscribe: %d", status)
	}
	if cb := rc.next(t); !strings.Contains(string(cb), `"rjct"`) || !strings.Contains(string(cb), "not authorized") || strings.Contains(string(cb), `"code"`) {
		t.Errorf("museum's on-subscribe: %s", cb)
	}

	// Only the owner cancels; then the subscription is kept, cancelled.
	status, _ = post(t, base+"unsubscribe", r.tokenWithScope(t, synth.Museum, "registry.subscribe"), unsubscribeBody("unsub-m", partner.URL+"/cb", code))
	if status != http.StatusAccepted {
		t.Fatalf("museum unsubscribe: %d", status)
	}
	cb = rc.next(t)
	dcitest.ValidateRequest(t, spec, "/registry/on-unsubscribe", cb)
	if !strings.Contains(string(cb), dci.RjctSubscriptionCodeInvalid) {
		t.Errorf("another institution's unsubscribe: %s", cb)
	}
	status, ack = post(t, base+"unsubscribe", token, unsubscribeBody("unsub-1", partner.URL+"/cb", code))
	if status != http.StatusAccepted {
		t.Fatalf("unsubscribe: %d %s", status, ack)
	}
	dcitest.ValidateResponse(t, spec, "/registry/unsubscribe", status, ack)
	cb = rc.next(t)
	dcitest.ValidateRequest(t, spec, "/registry/on-unsubscribe", cb)
	if !strings.Contains(string(cb), `{"code":"`+code+`","status":"unsubscribe"}`) {
		t.Errorf("on-unsubscribe: %s", cb)
	}
	if sub, _, err := directory.Get[directory.Subscription](ctx, r.st.Directory, code); err != nil || sub.Active() {
		t.Errorf("after unsubscribe: %+v, %v; want cancelled", sub, err)
	}
}

// TestFixtureSubscriptions: every nation holds the conformance suites' subscriptions,
// PENSION-FUND's, listed through txn status.
func TestFixtureSubscriptions(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	token := r.tokenWithScope(t, synth.PensionFund, "registry.txn_status")
	codes := []string{synth.FixtureSubscription, synth.FixtureSubscriptionCRVS, synth.FixtureSubscriptionFR}
	status, body := post(t, r.url+"/dci/crvs/registry/sync/txn/status", token, subscriptionStatusBody("fx-1", codes...))
	if status != 200 {
		t.Fatalf("status: %d %s", status, body)
	}
	for _, c := range codes {
		if !strings.Contains(string(body), `"code":"`+c+`","status":"subscribe"`) {
			t.Errorf("%s missing or not in force: %s", c, body)
		}
	}
	dcitest.ValidateResponse(t, dcitest.Spec(t, "crvs_api_v1.0.0.yaml"), "/registry/sync/txn/status", status, body)
}

func subscriptionStatusBody(messageID string, codes ...string) string {
	ts := time.Now().UTC().Format(time.RFC3339)
	list, _ := json.Marshal(codes)
	return fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":%q,"message_ts":%q,"action":"txn-status","sender_id":"test","total_count":1},`+
		`"message":{"transaction_id":%q,"txnstatus_request":{"reference_id":"r-1","txn_type":"subscribe","attribute_type":"subscription_code_list","attribute_value":%s,"locale":"eng"}}}`,
		run+messageID, ts, run+messageID, list)
}

// TestTokenWithoutScope: a token asked for without scope holds every scope the
// application may use, so a client that did not know to ask can subscribe with it.
func TestTokenWithoutScope(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	rc := &receiver{arrived: make(chan struct{}, 4)}
	partner := httptest.NewServer(rc)
	defer partner.Close()
	inst := synth.HealthInsurer1
	r.setCallbacks(t, inst, []string{partner.URL + "/"})
	token := r.token(t, inst) // no scope asked
	status, ack := post(t, r.url+"/dci/crvs/registry/subscribe", token, subscribeBody("noscope", partner.URL+"/on-subscribe", "death"))
	if s, _ := correlationOf(t, ack); status != http.StatusAccepted || s != dci.AckOK {
		t.Fatalf("subscribe with a token asked for without scope: %d %s; want 202 ACK", status, ack)
	}
	if cb := rc.next(t); !strings.Contains(string(cb), `"on-subscribe"`) {
		t.Errorf("on-subscribe: %s", cb)
	}
}
