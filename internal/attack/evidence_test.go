package attack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/synth"
	"github.com/crossroads-hub/crossroads/internal/testwait"
	"github.com/crossroads-hub/crossroads/internal/witness"
)

// An institution may hold the proof of its own exchanges, never another's: the evidence
// of a record names the persons asked about.
func TestEvidenceOnlyOfOnesOwnExchange(t *testing.T) {
	tg := start(t, nil)
	own := tg.token(t, synth.PensionFund)
	other := tg.token(t, synth.EmploymentService)
	files := tg.files(t, synth.PensionFund, today(), 1)
	status, h, body := tg.dci(t, own, search{criteria: byID("PN", files[0].Person)})
	seq := h.Get("X-Audit-Records")
	if status != http.StatusOK || seq == "" {
		t.Fatalf("search: %d, audit records %q: %s", status, seq, clip(body))
	}
	path := "/audit/records/" + seq + "/evidence"

	status, _, body = tg.do(t, "GET", path, own, "", nil)
	if status != http.StatusOK {
		t.Fatalf("evidence with the token of the institution that asked: %d %s", status, clip(body))
	}
	var ev audit.Evidence
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	if rec, err := audit.VerifyEvidence(ev, tg.verifierKey(t)); err != nil || rec.Institution != synth.PensionFund {
		t.Errorf("VerifyEvidence = %s, %v; want the pension fund's record", rec.Institution, err)
	}
	for _, c := range []struct {
		name, token string
		want        int
	}{
		{"another institution's token", other, http.StatusForbidden},
		{"no token", "", http.StatusUnauthorized},
		{"a forged token", own[:len(own)-4] + "AAAA", http.StatusUnauthorized},
		{"an unknown admin token", "crossroads-admin.nobody.secret", http.StatusUnauthorized},
	} {
		status, _, body := tg.do(t, "GET", path, c.token, "", nil)
		if status != c.want || strings.Contains(string(body), files[0].Person) {
			t.Errorf("evidence with %s: %d %s; want %d without the record", c.name, status, clip(body), c.want)
		}
	}
	if status, _ := tg.adminDo(t, "GET", path, nil); status != http.StatusOK {
		t.Errorf("evidence with the administrator token: %d", status)
	}
	// A person's exchanges are the administrators' to read: an institution's valid
	// token is refused for what it is, not as a malformed credential (#16).
	status, _, body = tg.do(t, "GET", "/audit/persons/"+files[0].Person+"/exchanges", own, "", nil)
	if _, msg := errorCode(t, body); status != http.StatusForbidden || !strings.Contains(msg, "administrators only") {
		t.Errorf("a person's exchanges with an institution's token: %d %s; want 403, administrators only", status, clip(body))
	}
	// The refused attempt is recorded in the audit log, like every refusal (#16).
	status, h, body = tg.do(t, "GET", path, other, "", nil)
	refusal := h.Get("X-Audit-Records")
	if status != http.StatusForbidden || refusal == "" {
		t.Fatalf("evidence with another institution's token: %d, X-Audit-Records %q: %s; want 403 and its record", status, refusal, clip(body))
	}
	var rec struct {
		Client, Institution, Service string
		Status                       int
		Reasons                      []string
	}
	if err := json.Unmarshal(tg.auditRecord(t, refusal), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Status != http.StatusForbidden || rec.Institution != synth.EmploymentService || !strings.Contains(strings.Join(rec.Reasons, ";"), "record "+seq) {
		t.Errorf("record %s = %+v; want the employment service's 403 naming record %s", refusal, rec, seq)
	}
}

// The consistency proofs are public and hold hashes only; their parameters are checked.
func TestConsistencyPublicAndBounded(t *testing.T) {
	tg := start(t, nil)
	tok := tg.token(t, synth.PensionFund)
	files := tg.files(t, synth.PensionFund, today(), 3)
	for _, f := range files {
		tg.dci(t, tok, search{criteria: byID("PN", f.Person)})
	}
	old := tg.checkpoint(t)
	for _, f := range files {
		tg.dci(t, tok, search{criteria: byID("PN", f.Person)})
	}
	testwait.For(t, 10*time.Second, func() error { // the hub signs a checkpoint every 2 s
		if cp := tg.checkpoint(t); cp.Size <= old.Size {
			return fmt.Errorf("the latest checkpoint is still at size %d", cp.Size)
		}
		return nil
	})
	status, _, body := tg.do(t, "GET", "/audit/consistency?from="+strconv.FormatInt(old.Size, 10), "", "", nil)
	if status != http.StatusOK {
		t.Fatalf("consistency: %d %s", status, clip(body))
	}
	var c audit.Consistency
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	if _, _, err := audit.VerifyConsistency(old.Note, c.Checkpoint, c.Proof, tg.verifierKey(t)); err != nil || c.To <= old.Size {
		t.Errorf("VerifyConsistency(%d → %d) = %v", old.Size, c.To, err)
	}
	for _, f := range files {
		if strings.Contains(string(body), f.Person) {
			t.Errorf("the consistency proof names person %s", f.Person)
		}
	}
	for _, q := range []string{"", "from=0", "from=-1", "from=1e3", "from=01", "from=2&to=1", "from=1&to=99999999999", "from=99999999999999999999", "from=x"} {
		if status, _, body := tg.do(t, "GET", "/audit/consistency?"+q, "", "", nil); status != http.StatusBadRequest {
			t.Errorf("consistency?%s: %d %s; want 400", q, status, clip(body))
		}
	}
}

// checkpoint reads the hub's latest signed checkpoint.
func (tg *target) checkpoint(t *testing.T) audit.Checkpoint {
	t.Helper()
	status, _, body := tg.do(t, "GET", "/audit/checkpoint", "", "", nil)
	var out struct {
		Checkpoint audit.Checkpoint `json:"checkpoint"`
	}
	if err := json.Unmarshal(body, &out); status != http.StatusOK || err != nil {
		t.Fatalf("checkpoint: %d %v", status, err)
	}
	return out.Checkpoint
}

// verifierKey reads the hub's published verifier key.
func (tg *target) verifierKey(t *testing.T) string {
	t.Helper()
	_, _, body := tg.do(t, "GET", "/audit/checkpoint", "", "", nil)
	var out struct {
		Key string `json:"verifier_key"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Key == "" {
		t.Fatalf("verifier key: %v in %s", err, clip(body))
	}
	return out.Key
}

// httpSource is the hub as a witness reads it, over HTTP.
type httpSource struct {
	tg *target
	t  *testing.T
}

func (h httpSource) Checkpoint(context.Context) (string, error) {
	return h.tg.checkpoint(h.t).Note, nil
}

func (h httpSource) Consistency(_ context.Context, from, to int64) (audit.Consistency, error) {
	var c audit.Consistency
	status, _, body := h.tg.do(h.t, "GET", fmt.Sprintf("/audit/consistency?from=%d&to=%d", from, to), "", "", nil)
	if status != http.StatusOK {
		return c, fmt.Errorf("consistency: %d %s", status, clip(body))
	}
	return c, json.Unmarshal(body, &c)
}

// A hub takes the cosigned checkpoints of the witnesses it expects, and of no one else,
// and serves them with its checkpoint.
func TestWitnessCosignatures(t *testing.T) {
	dir := t.TempDir()
	first, err := witness.Open(dir, "dpa.example", []string{"the hub's key, known once it runs"})
	if err != nil {
		t.Fatal(err)
	}
	tg := start(t, func(cfg *hub.Config) { cfg.Witnesses = []string{first.VerifierKey()} })
	tok := tg.token(t, synth.PensionFund)
	tg.dci(t, tok, search{criteria: byID("PN", tg.files(t, synth.PensionFund, today(), 1)[0].Person)})
	testwait.For(t, 10*time.Second, func() error { // an empty log has no checkpoint; one is signed every 2 s
		if status, _, body := tg.do(t, "GET", "/audit/checkpoint", "", "", nil); status != http.StatusOK {
			return fmt.Errorf("no checkpoint yet: %d %s", status, clip(body))
		}
		return nil
	})
	hubKey := tg.verifierKey(t)
	w, err := witness.Open(dir, "dpa.example", []string{hubKey})
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := witness.Open(t.TempDir(), "stranger.example", []string{hubKey})
	if err != nil {
		t.Fatal(err)
	}
	src := httpSource{tg, t}
	cosigned, err := w.Observe(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if status, _, body := tg.do(t, "POST", "/audit/cosignatures", "", "text/plain", []byte(cosigned)); status != http.StatusOK {
		t.Fatalf("the expected witness's cosignature: %d %s", status, clip(body))
	}
	other, err := stranger.Observe(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if status, _, body := tg.do(t, "POST", "/audit/cosignatures", "", "text/plain", []byte(other)); status != http.StatusForbidden {
		t.Errorf("a stranger's cosignature: %d %s; want 403", status, clip(body))
	}
	if status, _, body := tg.do(t, "POST", "/audit/cosignatures", "", "text/plain", []byte("hello")); status != http.StatusBadRequest {
		t.Errorf("a body that is not a signed note: %d %s; want 400", status, clip(body))
	}
	_, _, body := tg.do(t, "GET", "/audit/checkpoint", "", "", nil)
	var cp struct {
		Cosigned []audit.Cosigned `json:"cosigned"`
	}
	if err := json.Unmarshal(body, &cp); err != nil || len(cp.Cosigned) != 1 || cp.Cosigned[0].Witness != "dpa.example" || cp.Cosigned[0].Note != cosigned {
		t.Errorf("the checkpoint's cosignatures = %+v, %v; want the expected witness's", cp.Cosigned, err)
	}
}
