package attack_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/synth"
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
	waitFor(t, 10*time.Second, func() error { // the hub signs a checkpoint every 2 s
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
