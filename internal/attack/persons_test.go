package attack_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/synth"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// hasRecord reports whether the person's exchanges hold a record whose reasons contain
// reason (and, if messageID is set, of that message).
func hasRecord(recs []map[string]any, reason, messageID string) bool {
	for _, r := range recs {
		if messageID != "" && r["message_id"] != messageID {
			continue
		}
		reasons, _ := json.Marshal(r["reasons"])
		if strings.Contains(string(reasons), reason) {
			return true
		}
	}
	return false
}

// Every refusal of a question that names a person can be found by that person, whatever
// condition refused it: no authorization, a purpose or field not granted, a day too far
// back, a bad token.
func TestRefusalsFoundByPerson(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	tok := tg.token(t, synth.PensionFund)
	p := tg.files(t, synth.PensionFund, today(), 3)[2].Person
	cases := []struct {
		name, token, meta, reason string
	}{
		{"purpose not granted", tok, `{"purpose":"marketing"}`, "purpose"},
		{"field not granted", tok, `{"fields":["nationality"]}`, "nationality"},
		{"day too far back", tok, onDate(today().AddDays(-3000)), "reaches back"},
		{"no authorization", tg.token(t, synth.Museum), "", "holds no authorization"},
	}
	for _, c := range cases {
		status, _, body := tg.dci(t, c.token, search{criteria: byID("PN", p), meta: c.meta})
		if status != 403 {
			t.Errorf("%s: %d %s; want 403", c.name, status, clip(body))
		}
	}
	recs := tg.auditByPerson(t, p)
	for _, c := range cases {
		if !hasRecord(recs, c.reason, "") {
			t.Errorf("%s: no record naming %q among the %d exchanges of %s", c.name, c.reason, len(recs), p)
		}
	}
}

// A transaction status that hands out a stored answer again is an exchange: refused when
// the authorization no longer permits it, and recorded either way.
func TestTxnStatusIsAnExchange(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	inst := synth.HealthInsurer1
	appID := synth.AppID(inst)
	var mu sync.Mutex
	var callbacks [][]byte
	partner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		callbacks = append(callbacks, b)
		mu.Unlock()
	}))
	defer partner.Close()
	status, body := tg.adminDo(t, "GET", "/admin/applications/"+appID, nil)
	if status != 200 {
		t.Fatalf("application: %d %s", status, clip(body))
	}
	var app directory.Application
	if err := json.Unmarshal(body, &app); err != nil {
		t.Fatal(err)
	}
	app.Callbacks = []string{partner.URL + "/dci/"}
	if status, body := tg.adminDo(t, "PUT", "/admin/applications/"+appID, app); status != 200 {
		t.Fatalf("register callback: %d %s", status, clip(body))
	}
	tok := tg.token(t, inst)
	p := tg.files(t, inst, today(), 1)[0].Person
	status, _, body = tg.dci(t, tok, search{criteria: byID("PN", p), async: true, senderURI: partner.URL + "/dci/on-search"})
	if status != 202 {
		t.Fatalf("async search: %d %s", status, clip(body))
	}
	var ack struct {
		Message struct {
			CorrelationID string `json:"correlation_id"`
		} `json:"message"`
	}
	json.Unmarshal(body, &ack)
	testwait.For(t, 20*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(callbacks) == 0 {
			return fmt.Errorf("no on-search callback yet")
		}
		return nil
	})
	statusOf := func(messageID string) (int, []byte) {
		ts := time.Now().UTC().Format(time.RFC3339)
		req := fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":%q,"message_ts":%q,"action":"txn-status","sender_id":"attacker","total_count":1},`+
			`"message":{"transaction_id":"st-%s","txnstatus_request":{"reference_id":"r-1","txn_type":"search","attribute_type":"correlation_id","attribute_value":%q,"locale":"eng"}}}`,
			messageID, ts, messageID, ack.Message.CorrelationID)
		status, _, body := tg.do(t, "POST", "/dci/crvs/registry/sync/txn/status", tok, "application/json", []byte(req))
		return status, body
	}
	// The hub records the answer once the partner took it: from then on the status read
	// hands it out.
	var first string
	testwait.For(t, 20*time.Second, func() error {
		first = fmt.Sprintf("status-%d", time.Now().UnixNano())
		if status, body := statusOf(first); status != 200 || !strings.Contains(string(body), p) {
			return fmt.Errorf("status of an answered search: %d %s; want 200 with the answer", status, clip(body))
		}
		return nil
	})
	// The insurer's authorization ends: the stored answer is no longer handed out.
	a := tg.authorizationOf(t, inst, synth.CivilPerson)
	old := a
	a.ValidTo = today().AddDays(-1)
	if a.ValidFrom > a.ValidTo {
		a.ValidFrom = a.ValidTo
	}
	if status, body := tg.adminDo(t, "PUT", "/admin/authorizations/"+a.ID, a); status != 200 {
		t.Fatalf("end authorization: %d %s", status, clip(body))
	}
	defer tg.adminDo(t, "PUT", "/admin/authorizations/"+old.ID, old)
	second := fmt.Sprintf("status-%d", time.Now().UnixNano())
	status, body = statusOf(second)
	if strings.Contains(string(body), p) || !strings.Contains(string(body), `"rjct"`) {
		t.Errorf("status after the authorization ended: %d %s; want rjct without the answer", status, clip(body))
	}
	recs := tg.auditByPerson(t, p)
	if !hasRecord(recs, "stored answer", first) {
		t.Errorf("the status read that handed the answer out is not among %s's exchanges", p)
	}
	if !hasRecord(recs, "in force", second) {
		t.Errorf("the refused status read is not among %s's exchanges", p)
	}
}

// A question refused before its client is known — a bad token, a signature that does not
// verify — is recorded like any other: its record named in X-Audit-Records, its request
// hashed whole, the persons it names findable.
func TestUnauthenticatedRefusalsRecorded(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	tok := tg.token(t, synth.PensionFund)
	p := tg.files(t, synth.PensionFund, today(), 5)[4].Person
	for _, c := range []struct {
		name, token string
		edit        func([]byte) []byte
	}{
		{"a bad token", "not-a-token", func(b []byte) []byte { return b }},
		{"a signature that does not verify", tok, func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"signature":""`), []byte(`"signature":"junk"`), 1)
		}},
	} {
		body := c.edit(message("search", "", "", byID("PN", p)))
		status, h, answer := tg.do(t, "POST", "/dci/crvs/registry/sync/search", c.token, "application/json", body)
		if status != 401 {
			t.Errorf("%s: %d %s; want 401", c.name, status, clip(answer))
			continue
		}
		seq := h.Get("X-Audit-Records")
		if seq == "" {
			t.Errorf("%s: no X-Audit-Records header", c.name)
			continue
		}
		var rec struct {
			Persons     []string `json:"persons"`
			RequestHash string   `json:"request_hash"`
			MessageID   string   `json:"message_id"`
		}
		if err := json.Unmarshal(tg.auditRecord(t, seq), &rec); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		if rec.RequestHash != hex.EncodeToString(sum[:]) || len(rec.Persons) != 1 || rec.Persons[0] != p || rec.MessageID == "" {
			t.Errorf("%s: record %s holds persons %v, message %q, request hash %s; want %s, the message's id, %x", c.name, seq, rec.Persons, rec.MessageID, rec.RequestHash, p, sum)
		}
	}
}
