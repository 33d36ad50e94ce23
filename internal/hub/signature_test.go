package hub_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

func TestRequiredSignatures(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	inst := synth.HealthInsurer2
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: pub, KeyID: "k1", Algorithm: "EdDSA", Use: "sig"})
	app, _, err := directory.Get[directory.Application](ctx, r.st.Directory, synth.AppID(inst))
	if err != nil {
		t.Fatal(err)
	}
	app.Keys, app.Signatures = []json.RawMessage{jwk}, directory.SignaturesRequired
	if _, _, err := directory.Put(ctx, r.st.Directory, "test", app, directory.AnyVersion); err != nil {
		t.Fatal(err)
	}
	files, err := r.st.Directory.Store().Integrations(ctx, directory.IntegrationQuery{Institution: inst, Day: r.st.Directory.Today(), Limit: 1})
	if err != nil || len(files) == 0 {
		t.Fatalf("no file of %s: %v", inst, err)
	}
	token := r.token(t, inst)
	header, message := signedParts(files[0].Person)
	sig, err := dci.SignEd25519(header, message, "test", "k1", priv, time.Now().Add(-time.Second), time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, sig, message string
		status             int
		code               string
	}{
		{"unsigned", "", string(message), 401, "err.signature.missing"},
		{"signed", sig, string(message), 200, ""},
		{"altered after signing", sig, strings.Replace(string(message), `"r-1"`, `"r-2"`, 1), 401, "err.signature.invalid"},
	}
	for _, tt := range tests {
		body := fmt.Sprintf(`{"signature":%q,"header":%s,"message":%s}`, tt.sig, header, tt.message)
		req, _ := http.NewRequest("POST", r.url+"/dci/crvs/registry/sync/search", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.code) {
			t.Errorf("%s: %d %s; want %d %s", tt.name, resp.StatusCode, b, tt.status, tt.code)
		}
	}
}

func signedParts(person string) (json.RawMessage, json.RawMessage) {
	ts := time.Now().UTC().Format(time.RFC3339)
	header := fmt.Sprintf(`{"version":"1.0.0","message_id":"s-1","message_ts":%q,"action":"search","sender_id":"test","total_count":1}`, ts)
	message := fmt.Sprintf(`{"transaction_id":"t-1","search_request":[{"reference_id":"r-1","timestamp":%q,"search_criteria":{"query_type":"idtype-value","query":{"type":"PN","value":%q}},"locale":"eng"}]}`, ts, person)
	return json.RawMessage(header), json.RawMessage(message)
}

// TestBadSignatureRefused: a message that carries a signature that does not verify is
// refused (401 err.signature.invalid) whatever the application's policy; the policy says
// only whether a message may come unsigned.
func TestBadSignatureRefused(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: pub, KeyID: "k2", Algorithm: "EdDSA", Use: "sig"})
	// One application for each policy, set before the hub first reads it (it caches an
	// application's policy and keys for a few seconds), restored afterwards: the tests
	// of the package share the nation.
	apps := map[string]string{"none": synth.HealthInsurer1, "none+key": synth.HealthInsurer2,
		"optional": synth.HealthInsurer3, "required": synth.PensionFund}
	for setting, inst := range apps {
		app, _, err := directory.Get[directory.Application](ctx, r.st.Directory, synth.AppID(inst))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if _, _, err := directory.Put(ctx, r.st.Directory, "test", app, directory.AnyVersion); err != nil {
				t.Error(err)
			}
		})
		changed := app
		changed.Keys, changed.Signatures = []json.RawMessage{jwk}, strings.TrimSuffix(setting, "+key")
		if setting == "none" {
			changed.Keys = nil
		}
		if _, _, err := directory.Put(ctx, r.st.Directory, "test", changed, directory.AnyVersion); err != nil {
			t.Fatal(err)
		}
	}
	const garbage = `Signature: namespace="dci", kidId="{sender_id}|{unique_key_id}|{algorithm}", algorithm="ed25519", created="1606970629", expires="1607030629", headers="(created) (expires) digest", signature="Base64(signing content)"`
	tests := []struct {
		setting, sig string // sig: "", good, forged, or the signature itself
		status       int
		code         string
	}{
		{"none", "", 200, ""},
		{"none", garbage, 401, "err.signature.invalid"},
		{"none", "good", 401, "err.signature.invalid"}, // no key to verify it with
		{"none+key", "good", 200, ""},
		{"none+key", "forged", 401, "err.signature.invalid"},
		{"none+key", garbage, 401, "err.signature.invalid"},
		{"none+key", "e30.e30.AAAA", 401, "err.signature.invalid"},
		{"optional", "", 200, ""},
		{"optional", "good", 200, ""},
		{"optional", "forged", 401, "err.signature.invalid"},
		{"required", "", 401, "err.signature.missing"},
		{"required", "good", 200, ""},
		{"required", "forged", 401, "err.signature.invalid"},
	}
	tokens := map[string]string{}
	for i, tt := range tests {
		inst := apps[tt.setting]
		if tokens[inst] == "" {
			tokens[inst] = r.token(t, inst)
		}
		files, err := r.st.Directory.Store().Integrations(ctx, directory.IntegrationQuery{Institution: inst, Day: r.st.Directory.Today(), Limit: 1})
		if err != nil || len(files) == 0 {
			t.Fatalf("no file of %s: %v", inst, err)
		}
		header, message := signedParts(files[0].Person)
		header = json.RawMessage(strings.Replace(string(header), `"s-1"`, fmt.Sprintf(`"bs-%d-%d"`, time.Now().UnixNano(), i), 1))
		sig := tt.sig
		if key := map[string]ed25519.PrivateKey{"good": priv, "forged": other}[sig]; key != nil {
			if sig, err = dci.SignEd25519(header, message, "test", "k2", key, time.Now().Add(-time.Second), time.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		status, b := post(t, r.url+"/dci/crvs/registry/sync/search", tokens[inst], fmt.Sprintf(`{"signature":%q,"header":%s,"message":%s}`, sig, header, message))
		if status != tt.status || !strings.Contains(string(b), tt.code) {
			t.Errorf("policy %s, signature %.30q: %d %.300s; want %d %s", tt.setting, tt.sig, status, b, tt.status, tt.code)
		}
	}
}
