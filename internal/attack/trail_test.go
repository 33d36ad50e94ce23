package attack_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/synth"
)

// Issue #13, point 6: every attempt can be found afterwards. These are the gaps an
// outside tester found (F4, F5): requests refused as malformed once the caller was
// authenticated, refusals whose record named no person, status reads and registry calls
// without X-Audit-Records.

// trailRecord is what the tests read of an audit record.
type trailRecord struct {
	Client    string   `json:"client"`
	MessageID string   `json:"message_id"`
	Persons   []string `json:"persons"`
	Outcome   string   `json:"outcome"`
	Reasons   []string `json:"reasons"`
}

// recordOf reads the one audit record the answer's X-Audit-Records names.
func (tg *target) recordOf(t *testing.T, what string, h http.Header) (trailRecord, bool) {
	t.Helper()
	seq := h.Get("X-Audit-Records")
	if seq == "" || strings.Contains(seq, ",") {
		t.Errorf("%s: X-Audit-Records %q; want one record", what, seq)
		return trailRecord{}, false
	}
	var rec trailRecord
	if err := json.Unmarshal(tg.auditRecord(t, seq), &rec); err != nil {
		t.Fatal(err)
	}
	return rec, true
}

// A message refused as malformed after its caller was authenticated is recorded, its
// record naming the person it asks about, and found among that person's exchanges.
func TestMalformedMessagesRecorded(t *testing.T) {
	tg := start(t, nil)
	inst := synth.PensionFund
	tok := tg.token(t, inst)
	p := tg.files(t, inst, today(), 2)[1].Person
	good := listen(t)
	sync := func(meta string) []byte { return message("search", meta, "", byID("PN", p)) }
	edit := func(b []byte, from, to string) []byte { return bytes.Replace(b, []byte(from), []byte(to), 1) }
	cases := []struct {
		name  string
		async bool
		body  []byte
		want  int
	}{
		{"on_date not a day", false, sync(`{"on_date":"2026-02-30"}`), 400},
		{"on_date a timestamp", false, sync(`{"on_date":"2026-12-06T00:00:00Z"}`), 400},
		{"fields a string", false, sync(`{"fields":"person"}`), 400},
		{"wrong action", false, message("on-search", "", "", byID("PN", p)), 400},
		{"wrong message_ts", false, edit(sync(""), `"message_ts":"`, `"message_ts":"yesterday`), 400},
		{"wrong version", false, edit(sync(""), `"version":"1.0.0"`, `"version":"9.9.9"`), 400},
		{"async: sender_uri refused", true, message("search", "", "http://evil/", byID("PN", p)), 400},
		{"async: on_date not a day", true, message("search", `{"on_date":"2026-02-30"}`, "http://"+good.host()+"/cb", byID("PN", p)), 400},
	}
	tg.setCallbacks(t, inst, "http://"+good.host()+"/")
	for _, c := range cases {
		path := "/dci/crvs/registry/sync/search"
		if c.async {
			path = "/dci/crvs/registry/search"
		}
		status, h, body := tg.do(t, "POST", path, tok, "application/json", c.body)
		if status != c.want {
			t.Errorf("%s: %d %s; want %d", c.name, status, clip(body), c.want)
			continue
		}
		if c.async && ackError(body) == "" {
			t.Errorf("%s: %s; want ACK ERR", c.name, clip(body))
		}
		if rec, ok := tg.recordOf(t, c.name, h); ok && (!slices.Equal(rec.Persons, []string{p}) || rec.Client != synth.AppID(inst)) {
			t.Errorf("%s: record of %s naming %v; want %s naming %s", c.name, rec.Client, rec.Persons, synth.AppID(inst), p)
		}
	}
	// Without a sender_uri, and no callback registered: refused, recorded alike. (Another
	// institution: the hub keeps an application's callbacks a while.)
	tg.setCallbacks(t, synth.HealthInsurer2)
	q := tg.files(t, synth.HealthInsurer2, today(), 1)[0].Person
	status, h, body := tg.do(t, "POST", "/dci/crvs/registry/search", tg.token(t, synth.HealthInsurer2), "application/json", message("search", "", "", byID("PN", q)))
	if status != 400 || ackError(body) == "" {
		t.Fatalf("async without sender_uri: %d %s; want 400 ACK ERR", status, clip(body))
	}
	if rec, ok := tg.recordOf(t, "async without sender_uri", h); ok && !slices.Equal(rec.Persons, []string{q}) {
		t.Errorf("async without sender_uri: record naming %v; want %s", rec.Persons, q)
	}
	if n := len(tg.auditByPerson(t, p)); n < len(cases) {
		t.Errorf("%s has %d exchanges; want at least the %d refusals", p, n, len(cases))
	}
}

// A repeated message and an item refused on its own (page_size 0) name the person they
// ask about.
func TestRefusedItemsNamePersons(t *testing.T) {
	tg := start(t, nil)
	tok := tg.token(t, synth.PensionFund)
	p := tg.files(t, synth.PensionFund, today(), 3)[2].Person
	msg := message("search", "", "", byID("PN", p))
	if status, _, body := tg.do(t, "POST", "/dci/crvs/registry/sync/search", tok, "application/json", msg); status != 200 {
		t.Fatalf("first: %d %s", status, clip(body))
	}
	status, h, body := tg.do(t, "POST", "/dci/crvs/registry/sync/search", tok, "application/json", msg)
	if status != 200 || !strings.Contains(string(body), "rjct.message_id.duplicate") {
		t.Fatalf("repeated: %d %s; want 200 rjct.message_id.duplicate", status, clip(body))
	}
	if rec, ok := tg.recordOf(t, "repeated message", h); ok && !slices.Equal(rec.Persons, []string{p}) {
		t.Errorf("repeated message: record naming %v; want %s", rec.Persons, p)
	}
	zero := strings.Replace(byID("PN", p), `"page_size":10`, `"page_size":0`, 1)
	status, h, body = tg.dci(t, tok, search{criteria: zero})
	if a := decodeAnswer(t, body); status != 200 || len(a.Message.SearchResponse) != 1 || a.Message.SearchResponse[0].Status != "rjct" {
		t.Fatalf("page_size 0: %d %s; want 200 with the item rjct", status, clip(body))
	}
	if rec, ok := tg.recordOf(t, "page_size 0", h); ok && !slices.Equal(rec.Persons, []string{p}) {
		t.Errorf("page_size 0: record naming %v; want %s", rec.Persons, p)
	}
}

// Every transaction status is recorded and names its record, also when it asks about
// another application's transaction (refused as one that does not exist).
func TestTxnStatusReadsRecorded(t *testing.T) {
	tg := start(t, nil)
	owner, other := synth.HealthInsurer1, synth.PensionFund
	cb := listen(t)
	tg.setCallbacks(t, owner, "http://"+cb.host()+"/")
	tok := tg.token(t, owner)
	p := tg.files(t, owner, today(), 1)[0].Person
	status, _, body := tg.dci(t, tok, search{criteria: byID("PN", p), async: true, senderURI: "http://" + cb.host() + "/on-search"})
	if status != 202 {
		t.Fatalf("async search: %d %s", status, clip(body))
	}
	var ack struct {
		Message struct {
			CorrelationID string `json:"correlation_id"`
		} `json:"message"`
	}
	if err := json.Unmarshal(body, &ack); err != nil {
		t.Fatal(err)
	}
	statusOf := func(token string) (int, http.Header, []byte) {
		ts := time.Now().UTC().Format(time.RFC3339)
		id := fmt.Sprintf("st-%d-%d", time.Now().UnixNano(), msgSeq.Add(1))
		req := fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":%q,"message_ts":%q,"action":"txn-status","sender_id":"attacker","total_count":1},`+
			`"message":{"transaction_id":%q,"txnstatus_request":{"reference_id":"r-1","txn_type":"search","attribute_type":"correlation_id","attribute_value":%q,"locale":"eng"}}}`,
			id, ts, id, ack.Message.CorrelationID)
		return tg.do(t, "POST", "/dci/crvs/registry/sync/txn/status", token, "application/json", []byte(req))
	}
	status, h, body := statusOf(tok)
	if status != 200 {
		t.Fatalf("own status: %d %s", status, clip(body))
	}
	if rec, ok := tg.recordOf(t, "own status", h); ok && rec.Client != synth.AppID(owner) {
		t.Errorf("own status: record of %s; want %s", rec.Client, synth.AppID(owner))
	}
	status, h, body = statusOf(tg.token(t, other))
	if status != 200 || !strings.Contains(string(body), `"rjct"`) || strings.Contains(string(body), p) {
		t.Fatalf("another's status: %d %s; want 200 rjct without the answer", status, clip(body))
	}
	if rec, ok := tg.recordOf(t, "another's status", h); ok && (rec.Client != synth.AppID(other) || rec.Outcome != "refused" || len(rec.Persons) != 0) {
		t.Errorf("another's status: record %+v; want %s's, refused, naming no person", rec, synth.AppID(other))
	}
}

// enrolledMessage is an IBR sync/enrolled call about person with message id id.
func enrolledMessage(id, person string) []byte {
	ts := time.Now().UTC().Format(time.RFC3339)
	return fmt.Appendf(nil, `{"header":{"version":"1.0.0","message_id":%q,"message_ts":%q,"action":"search","sender_id":"attacker","total_count":1},`+
		`"message":{"transaction_id":"t-%s","enrolled_criteria":{"query_type":"idtype-value","query":{"person_identifier":{"eq":%q}}}}}`, id, ts, id, person)
}

// IBR's sync/enrolled names its record, refused or answered; the record keeps the message
// id, so that the same message sent after a restart is refused as a repeat.
func TestEnrolledRecordedAndRepeatRefused(t *testing.T) {
	tg := start(t, nil)
	p := tg.files(t, synth.PensionFund, today(), 1)[0].Person
	id := fmt.Sprintf("enrolled-%d", time.Now().UnixNano())
	status, h, body := tg.do(t, "POST", "/dci/ibr/registry/sync/enrolled", tg.token(t, synth.PensionFund), "application/json", enrolledMessage(id, p))
	if status != 200 {
		t.Fatalf("enrolled: %d %s", status, clip(body))
	}
	if rec, ok := tg.recordOf(t, "enrolled", h); ok && (rec.MessageID != id || !slices.Equal(rec.Persons, []string{p})) {
		t.Errorf("enrolled: record of message %q naming %v; want %q naming %s", rec.MessageID, rec.Persons, id, p)
	}
	status, h, body = tg.do(t, "POST", "/dci/ibr/registry/sync/enrolled", tg.token(t, synth.Museum), "application/json", enrolledMessage(id+"-m", p))
	if status != 403 {
		t.Fatalf("enrolled by the museum: %d %s; want 403", status, clip(body))
	}
	if rec, ok := tg.recordOf(t, "enrolled by the museum", h); ok && rec.MessageID != id+"-m" {
		t.Errorf("enrolled by the museum: record of message %q; want %q", rec.MessageID, id+"-m")
	}
	tg.stop()
	tg = start(t, nil)
	status, h, body = tg.do(t, "POST", "/dci/ibr/registry/sync/enrolled", tg.token(t, synth.PensionFund), "application/json", enrolledMessage(id, p))
	if status != http.StatusConflict || !strings.Contains(string(body), "already received") {
		t.Fatalf("the same message after a restart: %d %s; want 409, already received", status, clip(body))
	}
	if rec, ok := tg.recordOf(t, "repeat", h); ok && !slices.Equal(rec.Persons, []string{p}) {
		t.Errorf("repeat: record naming %v; want %s", rec.Persons, p)
	}
}

// A body over the limit gets 413 and one in the wrong format 415, on every route that
// reads one (the token endpoint keeps RFC 6749's 400).
func TestOversizeAndWrongTypeStatuses(t *testing.T) {
	tg := start(t, nil)
	tok := tg.token(t, synth.PensionFund)
	big := bytes.Repeat([]byte(" "), 2<<20)
	dci := []string{"crvs/registry/sync/search", "crvs/registry/search", "crvs/registry/sync/txn/status", "crvs/registry/txn/status",
		"crvs/registry/subscribe", "crvs/registry/unsubscribe", "crvs/registry/notify", "ibr/registry/sync/enrolled",
		"dr/registry/sync/disabled", "ibr/registry/sync/enrollment/updates"}
	for _, path := range dci {
		if status, _, body := tg.do(t, "POST", "/dci/"+path, tok, "application/json", big); status != http.StatusRequestEntityTooLarge {
			t.Errorf("2 MiB to /dci/%s: %d %s; want 413", path, status, clip(body))
		}
	}
	// A batch announced larger than the limit: refused before its body is sent.
	conn, err := net.Dial("tcp", strings.TrimPrefix(tg.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second)) // a hub that waits for the body fails, not hangs
	fmt.Fprintf(conn, "POST /exchange/batch HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n", tok, 65<<20)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("X-Audit-Records") == "" {
		t.Errorf("a batch of 65 MiB: %d, X-Audit-Records %q; want 413, recorded", resp.StatusCode, resp.Header.Get("X-Audit-Records"))
	}
	if status, _, body := tg.do(t, "POST", "/exchange/batch", tok, "application/json", []byte("85061500118\n")); status != http.StatusUnsupportedMediaType {
		t.Errorf("batch as JSON: %d %s; want 415", status, clip(body))
	}
	if status, _, body := tg.do(t, "POST", "/admin/institutions", tg.admin, "application/json", big); status != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB to the admin API: %d %s; want 413", status, clip(body))
	}
	if status, _, body := tg.do(t, "POST", "/admin/institutions", tg.admin, "text/plain", []byte("{}")); status != http.StatusUnsupportedMediaType {
		t.Errorf("text to the admin API: %d %s; want 415", status, clip(body))
	}
	if status, _, body := tg.do(t, "POST", "/oauth2/client/token", "", "text/plain", []byte("grant_type=client_credentials")); status != http.StatusBadRequest {
		t.Errorf("text to the token endpoint: %d %s; want 400 (RFC 6749)", status, clip(body))
	}
}
