package hub_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/dci/dcitest"
	"github.com/crossroads-hub/crossroads/internal/synth"
	"github.com/crossroads-hub/crossroads/internal/testwait"
	"github.com/crossroads-hub/crossroads/internal/txn"
)

// receiver is a partner's callback endpoint: it records what it gets, and refuses the
// first failFirst deliveries.
type receiver struct {
	mu        sync.Mutex
	failFirst int
	got       [][]byte
	arrived   chan struct{}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.failFirst > 0 {
		rc.failFirst--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	rc.got = append(rc.got, b)
	w.WriteHeader(http.StatusOK)
	rc.arrived <- struct{}{}
}

func (rc *receiver) next(t *testing.T) []byte {
	t.Helper()
	select {
	case <-rc.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("no callback within 10 s")
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.got[len(rc.got)-1]
}

// post sends a DCI message and returns the status and body of the answer.
func post(t *testing.T, url, token, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// run tags the ids of the messages of this test binary. Each test has a copy of the
// nation of its own, so that ids need not differ between tests; it is set once, never
// changed, as tests run side by side.
var run = strconv.FormatInt(time.Now().UnixNano(), 36) + "-"

func asyncSearch(messageID, transactionID, senderURI, person string) string {
	messageID, transactionID = run+messageID, run+transactionID
	ts := time.Now().UTC().Format(time.RFC3339)
	return fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":%q,"message_ts":%q,"action":"search","sender_id":"test","sender_uri":%q,"total_count":1},`+
		`"message":{"transaction_id":%q,"search_request":[{"reference_id":"r-1","timestamp":%q,"search_criteria":{"query_type":"idtype-value","query":{"type":"PN","value":%q},"pagination":{"page_size":10,"page_number":1}},"locale":"eng"}]}}`,
		messageID, ts, senderURI, transactionID, ts, person)
}

func txnStatusBody(messageID, senderURI, attrType, value string) string {
	messageID = run + messageID
	if attrType == dci.AttrTransactionID {
		value = run + value
	}
	ts := time.Now().UTC().Format(time.RFC3339)
	return fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":%q,"message_ts":%q,"action":"txn-status","sender_id":"test","sender_uri":%q,"total_count":1},`+
		`"message":{"transaction_id":"ts-%s","txnstatus_request":{"reference_id":"r-1","txn_type":"search","attribute_type":%q,"attribute_value":%q,"locale":"eng"}}}`,
		messageID, ts, senderURI, messageID, attrType, value)
}

func correlationOf(t *testing.T, ack []byte) (status, corr string) {
	t.Helper()
	var a dci.Ack
	if err := json.Unmarshal(ack, &a); err != nil {
		t.Fatalf("ACK %s: %v", ack, err)
	}
	return a.Message.AckStatus, a.Message.CorrelationID
}

// TestAsyncSearch: ACK at once, the answer delivered to the registered callback URL,
// signed by the hub, retried after a refusal, spec-valid all along; txn/status answers
// it; repeats are not processed again; an unregistered callback URL is refused.
func TestAsyncSearch(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	rc := &receiver{failFirst: 1, arrived: make(chan struct{}, 16)}
	partner := httptest.NewServer(rc)
	defer partner.Close()
	inst := synth.HealthInsurer1
	r.setCallbacks(t, inst, []string{partner.URL + "/dci/"})
	token := r.token(t, inst)
	spec := dcitest.Spec(t, "crvs_api_v1.0.0.yaml")
	base := r.url + "/dci/crvs/registry/"
	callback := partner.URL + "/dci/registry/on-search"
	before := r.auditSize(t)

	status, ack := post(t, base+"search", token, asyncSearch("am-1", "at-1", callback, synth.FixtureNumber))
	if status != http.StatusAccepted {
		t.Fatalf("async search: %d %s; want 202", status, ack)
	}
	dcitest.ValidateResponse(t, spec, "/registry/search", status, ack)
	ackStatus, corr := correlationOf(t, ack)
	if ackStatus != dci.AckOK || corr == "" {
		t.Fatalf("ACK %s", ack)
	}

	cb := rc.next(t) // the first delivery was refused: this is the retry
	dcitest.ValidateRequest(t, spec, "/registry/on-search", cb)
	for _, want := range []string{`"on-search"`, corr, `"Test"`, `"family_name"`} {
		if !strings.Contains(string(cb), want) {
			t.Errorf("callback lacks %s: %s", want, cb)
		}
	}
	checkHubSignature(t, r.url, cb)
	if after := r.auditSize(t); after != before+1 {
		t.Errorf("audit log grew from %d to %d; want one record", before, after)
	}

	// Status, by correlation id and by transaction id, sync and async.
	for _, q := range [][2]string{{dci.AttrCorrelationID, corr}, {dci.AttrTransactionID, "at-1"}} {
		status, body := post(t, base+"sync/txn/status", token, txnStatusBody("st-"+q[0], "", q[0], q[1]))
		if status != 200 || !strings.Contains(string(body), `"succ"`) || !strings.Contains(string(body), `"Test"`) {
			t.Errorf("sync txn status by %s: %d %s", q[0], status, body)
		}
		dcitest.ValidateResponse(t, spec, "/registry/sync/txn/status", status, body)
	}
	status, body := post(t, base+"sync/txn/status", token, txnStatusBody("st-unknown", "", dci.AttrTransactionID, "nope"))
	if status != 200 || !strings.Contains(string(body), `"rjct"`) {
		t.Errorf("status of an unknown transaction: %d %s; want header rjct", status, body)
	}
	dcitest.ValidateResponse(t, spec, "/registry/sync/txn/status", status, body)
	other := r.token(t, synth.CityPrefix+"R01") // another application does not see it
	if status, body := post(t, base+"sync/txn/status", other, txnStatusBody("st-other", "", dci.AttrCorrelationID, corr)); !strings.Contains(string(body), `"rjct"`) {
		t.Errorf("another application's status request: %d %s; want rjct", status, body)
	}
	status, ack = post(t, base+"txn/status", token, txnStatusBody("st-async", partner.URL+"/dci/registry/txn/on-status", dci.AttrCorrelationID, corr))
	if status != http.StatusAccepted {
		t.Fatalf("async txn status: %d %s", status, ack)
	}
	dcitest.ValidateResponse(t, spec, "/registry/txn/status", status, ack)
	onStatus := rc.next(t)
	dcitest.ValidateRequest(t, spec, "/registry/txn/on-status", onStatus)
	if !strings.Contains(string(onStatus), `"txn-on-status"`) || !strings.Contains(string(onStatus), corr) {
		t.Errorf("txn/on-status callback: %s", onStatus)
	}

	// Repeats.
	status, ack = post(t, base+"search", token, asyncSearch("am-1", "at-2", callback, synth.FixtureNumber))
	if s, c := correlationOf(t, ack); s != dci.AckErr || c != corr || !strings.Contains(string(ack), dci.RjctMessageIDDuplicate) {
		t.Errorf("repeated message id: %d %s; want ERR naming %s", status, ack, corr)
	}
	status, ack = post(t, base+"search", token, asyncSearch("am-2", "at-1", callback, synth.FixtureNumber))
	if s, c := correlationOf(t, ack); status != http.StatusAccepted || s != dci.AckOK || c != corr {
		t.Errorf("repeated transaction id: %d %s; want ACK with %s", status, ack, corr)
	}
	// The search, the three status reads that handed its answer out again (each an
	// exchange of its own), the two that did not (an unknown transaction, another
	// application's), and the refused repeat of a message id; the repeated transaction id,
	// acknowledged with the first's correlation id, adds nothing.
	if after := r.auditSize(t); after != before+7 {
		t.Errorf("after the repeats the audit log holds %d records more; want 7", after-before)
	}

	// Callback URLs the application did not register are refused before anything is stored.
	for _, uri := range []string{"http://169.254.169.254/latest", partner.URL + "/elsewhere"} {
		status, ack := post(t, base+"search", token, asyncSearch("am-x"+uri, "at-x"+uri, uri, synth.FixtureNumber))
		if s, _ := correlationOf(t, ack); status != http.StatusBadRequest || s != dci.AckErr || !strings.Contains(string(ack), dci.ErrSenderURI) {
			t.Errorf("sender_uri %q: %d %s; want 400 ERR %s", uri, status, ack, dci.ErrSenderURI)
		}
		dcitest.ValidateResponse(t, spec, "/registry/search", status, ack)
	}
	if status, _ := post(t, base+"search", "", asyncSearch("am-y", "at-y", callback, synth.FixtureNumber)); status != http.StatusUnauthorized {
		t.Errorf("async search without a token: %d; want 401", status)
	}
}

// checkHubSignature verifies a callback's signature with the hub's published key.
func checkHubSignature(t *testing.T, hubURL string, body []byte) {
	t.Helper()
	var env struct {
		Signature string          `json:"signature"`
		Header    json.RawMessage `json:"header"`
		Message   json.RawMessage `json:"message"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	sig, err := dci.ParseSignature(env.Signature)
	if err != nil {
		t.Fatalf("callback signature %q: %v", env.Signature, err)
	}
	if err := dci.VerifyEd25519(sig, env.Header, env.Message, hubKey(t, hubURL, sig.KeyID), time.Now()); err != nil {
		t.Errorf("callback signature: %v", err)
	}
}

// TestAsyncSurvivesRestart: a search answered but not yet delivered when the hub stops is
// delivered after the restart, once, without being asked of the source again.
func TestAsyncSurvivesRestart(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	rc := &receiver{failFirst: 1 << 20, arrived: make(chan struct{}, 4)}
	partner := httptest.NewServer(rc)
	defer partner.Close()
	inst := synth.HealthInsurer1
	r.setCallbacks(t, inst, []string{partner.URL + "/"})
	before := r.auditSize(t)
	status, ack := post(t, r.url+"/dci/crvs/registry/search", r.token(t, inst), asyncSearch("rm-1", "rt-1", partner.URL+"/on-search", synth.FixtureNumber))
	_, corr := correlationOf(t, ack)
	if status != http.StatusAccepted {
		t.Fatalf("async search: %d %s", status, ack)
	}
	testwait.For(t, 10*time.Second, func() error {
		tx, err := r.st.Hub.Txns().Get(ctx, corr)
		if err != nil || tx.Attempts == 0 || !tx.Answered() {
			return fmt.Errorf("a failed delivery: %+v, %v", tx, err)
		}
		return nil
	})
	r.stop()
	rc.mu.Lock()
	rc.failFirst = 0
	rc.mu.Unlock()

	r2 := startHub(t, false)
	cb := rc.next(t)
	if !strings.Contains(string(cb), corr) || !strings.Contains(string(cb), `"Test"`) {
		t.Errorf("callback after the restart: %s", cb)
	}
	if after := r2.auditSize(t); after != before+1 {
		t.Errorf("the audit log grew by %d; want 1 (answered once)", after-before)
	}
	var tx txn.Txn
	testwait.For(t, 5*time.Second, func() error {
		var err error
		tx, err = r2.st.Hub.Txns().Get(ctx, corr) // the hub records the delivery after the partner's answer
		if err != nil || tx.Delivered.IsZero() {
			return fmt.Errorf("the delivery recorded (status %s, attempts %d, %v)", tx.Status, tx.Attempts, err)
		}
		return nil
	})
	if tx.Attempts != 1 || tx.LastError != "" {
		t.Errorf("delivered with attempts %d, last error %q; want 1 failed attempt before, no error after", tx.Attempts, tx.LastError)
	}
}

// hubKey is the public key kid of the hub's JWKS (/.well-known/jwks.json).
func hubKey(t *testing.T, hubURL, kid string) ed25519.PublicKey {
	t.Helper()
	resp, err := http.Get(hubURL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	keys := set.Key(kid)
	if len(keys) == 0 {
		t.Fatalf("no key %s in the hub's JWKS", kid)
	}
	return keys[0].Key.(ed25519.PublicKey)
}
