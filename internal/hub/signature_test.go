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
