package hub_test

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// TestAuditKeyRotation: evidence downloaded before the hub's key is rotated (as
// `crossroads keys rotate` does, then a restart) verifies after it with the key history
// GET /audit/checkpoint publishes — the old key for the checkpoints it signed — where the
// key that signs now refuses it; evidence taken after the rotation verifies with the new
// key.
func TestAuditKeyRotation(t *testing.T) {
	t.Parallel()
	dir := testNation(t)
	cfg := config(dir)
	serve := func() *running { return serveHub(t, cfg) }
	exchange := func(r *running) audit.Evidence {
		t.Helper()
		if status, body := r.search(t, r.token(t, synth.HealthInsurer1), "PN", synth.FixtureNumber, ""); status != 200 {
			t.Fatalf("search = %d %s", status, body)
		}
		var ev audit.Evidence
		getJSON(t, r.url+fmt.Sprintf("/audit/records/%d/evidence", r.auditSize(t)), r.admin, &ev)
		return ev
	}
	type published struct {
		Key  string            `json:"verifier_key"`
		Keys []audit.KeyPeriod `json:"verifier_keys"`
	}

	r := serve()
	before := exchange(r)
	var old published
	getJSON(t, r.url+"/audit/checkpoint", "", &old)
	r.stop()

	// crossroads keys rotate, then a restart.
	b, err := os.ReadFile(cfg.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := oauth.LoadKeySet(b, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Rotate(15 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := hub.SaveKeys(cfg.KeyFile, ks); err != nil {
		t.Fatal(err)
	}
	r = serve()
	after := exchange(r)
	var now published
	getJSON(t, r.url+"/audit/checkpoint", "", &now)

	if now.Key == old.Key || len(now.Keys) != 2 || now.Keys[0].Key != old.Key || now.Keys[1].Key != now.Key ||
		now.Keys[0].Last == 0 || now.Keys[1].First <= now.Keys[0].Last || now.Keys[1].Last != 0 {
		t.Fatalf("GET /audit/checkpoint after the rotation: key %s, history %+v; want the old key %s up to a size, then the new one", now.Key, now.Keys, old.Key)
	}
	if _, err := audit.VerifyEvidence(before, now.Key); err == nil {
		t.Fatalf("evidence from before the rotation verifies with the new key alone: the test shows nothing")
	}
	for name, ev := range map[string]audit.Evidence{"before the rotation": before, "after": after} {
		if _, err := audit.VerifyEvidenceKeys(ev, now.Keys); err != nil {
			t.Errorf("VerifyEvidenceKeys(evidence %s, the published history) = %v", name, err)
		}
	}
	if _, err := audit.VerifyEvidence(after, now.Key); err != nil {
		t.Errorf("VerifyEvidence(evidence after the rotation, the new key) = %v", err)
	}
}

// getJSON decodes the JSON answer of a GET (get), with a bearer token unless "".
func getJSON(t *testing.T, url, token string, v any) {
	t.Helper()
	status, b := get(t, url, token)
	if status != 200 {
		t.Fatalf("GET %s = %d %s", url, status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
