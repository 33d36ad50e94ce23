package attack_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// A batch for a service the institution holds no authorization for is refused as a
// whole: one 403, one audit record naming the batch (its lines, its hash, the persons
// of its first lines), not one record a line (#13, F2: 100,000 lines made 100,000
// records, 74 MB of store, and the person's list of exchanges flooded).
func TestUnauthorizedBatchIsOneRefusal(t *testing.T) {
	tg := start(t, nil)
	tok := tg.token(t, synth.Museum)
	victim := tg.stranger(t, synth.Museum)
	body := bytes.Repeat([]byte(victim+"\n"), 20_000)
	status, h, out := tg.do(t, "POST", "/exchange/batch?service="+synth.CivilPerson, tok, "text/plain", body)
	if status != http.StatusForbidden {
		t.Fatalf("status %d %s; want 403 for the whole batch", status, clip(out))
	}
	if code, _ := errorCode(t, out); code != "err.request.forbidden" {
		t.Errorf("code %s; want err.request.forbidden", code)
	}
	seq := h.Get("X-Audit-Records")
	if seq == "" || strings.Contains(seq, ",") {
		t.Fatalf("X-Audit-Records %q; want one record", seq)
	}
	var rec struct {
		Persons []string `json:"persons"`
		Reasons []string `json:"reasons"`
		Status  int      `json:"status"`
	}
	if err := json.Unmarshal(tg.auditRecord(t, seq), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Status != http.StatusForbidden || len(rec.Persons) != 1 || rec.Persons[0] != victim || !strings.Contains(strings.Join(rec.Reasons, ";"), "20000 lines") {
		t.Errorf("record %s = %+v; want the refusal, naming %s and the batch's 20000 lines", seq, rec, victim)
	}
	// Before the lines are counted: a body too long for a batch is refused for the
	// authorization first.
	status, _, out = tg.do(t, "POST", "/exchange/batch", tok, "text/plain", bytes.Repeat([]byte(" \r\n"), 1_000_001))
	if status != http.StatusForbidden {
		t.Errorf("1,000,001 blank lines of the museum: %d %s; want 403", status, clip(out))
	}
}

// Refused lines are charged to the client's budget like answered ones, so a flood of
// refusals reaches 429 as a flood of answers does.
func TestRefusedBatchLinesAreCharged(t *testing.T) {
	// A budget of 10 ms: a thousand lines spend it, refused as a whole (50 µs each,
	// exchange.ItemCost) or line by line (10 µs each at least, exchange.BulkItemCost).
	tg := start(t, func(c *hub.Config) {
		l := exchange.DefaultLimits()
		l.Burst = float64(1000*exchange.BulkItemCost) / float64(time.Second)
		l.Rate = 0.0001
		c.Limits = &l
	})
	for _, c := range []struct{ name, institution string }{
		{"no authorization", synth.Museum},
		{"persons it has no file on", synth.PensionFund},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok := tg.token(t, c.institution)
			body := bytes.Repeat([]byte(tg.stranger(t, c.institution)+"\n"), 1_000)
			var got []int
			for range 3 {
				status, _, _ := tg.do(t, "POST", "/exchange/batch", tok, "text/plain", body)
				got = append(got, status)
				if status == http.StatusTooManyRequests {
					return
				}
			}
			t.Errorf("three batches of 1,000 refused lines: statuses %v; want 429 once the budget is spent", got)
		})
	}
}

// The items of a DCI message share its caller, service, purpose, fields and day: when
// the policy refuses them all alike, the message is one refusal, one record naming
// every person its items name.
func TestUnauthorizedMessageIsOneRefusal(t *testing.T) {
	tg := start(t, nil)
	tok := tg.token(t, synth.Museum)
	victim := tg.stranger(t, synth.Museum)
	items := make([]string, 50)
	for i := range items {
		items[i] = byID("PN", victim)
	}
	status, h, out := tg.do(t, "POST", "/dci/crvs/registry/sync/search", tok, "application/json", message("search", "", "", items...))
	if status != http.StatusForbidden {
		t.Fatalf("status %d %s; want 403", status, clip(out))
	}
	seq := h.Get("X-Audit-Records")
	if seq == "" || strings.Contains(seq, ",") {
		t.Fatalf("X-Audit-Records %q; want one record for the message", seq)
	}
	var rec struct {
		Persons []string `json:"persons"`
	}
	if err := json.Unmarshal(tg.auditRecord(t, seq), &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Persons) != 1 || rec.Persons[0] != victim {
		t.Errorf("record %s names %v; want %s, whom the items ask about", seq, rec.Persons, victim)
	}
}

// A batch refused as a whole is charged what reading it cost, by its lines, blank ones
// too: a flood of batches of blank lines reaches 429 (#13, second check: 773 batches of
// 1,000,001 blank lines in 8 s, each charged one line, never held back). A batch held
// back names what it asked in its record, read from a bounded prefix (its hash, its
// first persons), and both refusals are problems like every other error.
func TestBlankBatchFloodIsHeldBack(t *testing.T) {
	tg := start(t, nil) // the default limits
	tok := tg.token(t, synth.Museum)
	blank := bytes.Repeat([]byte("\n"), 1_000_001)
	var got []int
	for range 3 {
		status, h, out := tg.do(t, "POST", "/exchange/batch", tok, "text/plain", blank)
		got = append(got, status)
		if status != http.StatusTooManyRequests {
			isProblem(t, status, h, out)
			continue
		}
		break
	}
	if got[len(got)-1] != http.StatusTooManyRequests {
		t.Fatalf("three batches of 1,000,001 blank lines: statuses %v; want 429 once the budget is spent", got)
	}
	victim := tg.stranger(t, synth.Museum)
	body := append([]byte("person\n"+victim+"\n"), bytes.Repeat([]byte("\n"), 2<<20)...)
	status, h, out := tg.do(t, "POST", "/exchange/batch", tok, "text/plain", body)
	if status != http.StatusTooManyRequests {
		t.Fatalf("status %d %s; want 429", status, clip(out))
	}
	isProblem(t, status, h, out)
	seq := h.Get("X-Audit-Records")
	if seq == "" {
		t.Fatalf("429 without X-Audit-Records")
	}
	var rec struct {
		Persons []string `json:"persons"`
		Reasons []string `json:"reasons"`
		Status  int      `json:"status"`
		Request string   `json:"request_hash"`
	}
	if err := json.Unmarshal(tg.auditRecord(t, seq), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Status != http.StatusTooManyRequests || len(rec.Persons) != 1 || rec.Persons[0] != victim ||
		!strings.Contains(strings.Join(rec.Reasons, ";"), "first 1048576 bytes") || strings.HasPrefix(rec.Request, "e3b0c442") {
		t.Errorf("record %s = %+v; want the 429 naming %s, read in its first 1048576 bytes (not the hash of nothing)", seq, rec, victim)
	}
}

// isProblem fails unless out is an RFC 9457 problem of status carrying the DCI errors.
func isProblem(t *testing.T, status int, h http.Header, out []byte) {
	t.Helper()
	var p struct {
		Type   string            `json:"type"`
		Status int               `json:"status"`
		Errors []json.RawMessage `json:"errors"`
	}
	if ct := h.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%d: Content-Type %q; want application/problem+json", status, ct)
	}
	if err := json.Unmarshal(out, &p); err != nil || p.Type == "" || p.Status != status || len(p.Errors) == 0 {
		t.Errorf("%d: body %s; want a problem with its status and the DCI errors", status, clip(out))
	}
}
