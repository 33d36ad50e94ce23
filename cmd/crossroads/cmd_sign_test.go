package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/dci"
)

// TestSign: crossroads sign signs a message with a client's key from the demo's client
// file, or with a JWK file, so that the public key verifies it; bad input is refused.
func TestSign(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	jwk, _ := jose.JSONWebKey{Key: priv, KeyID: "demo", Algorithm: "EdDSA", Use: "sig"}.MarshalJSON()
	dir := t.TempDir()
	clients := filepath.Join(dir, "demo-clients.json")
	file, _ := json.Marshal(map[string]any{"clients": []map[string]any{{"client_id": "app-1", "signing_key": json.RawMessage(jwk)}}})
	keyFile := filepath.Join(dir, "key.jwk")
	for path, b := range map[string][]byte{clients: file, keyFile: jwk} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	msg := `{"header":{"message_id":"m1","message_ts":"2026-01-01T00:00:00Z","action":"search","sender_id":"pension-fund","total_count":1},"message":{"transaction_id":"t1"}}`
	for _, args := range [][]string{{"sign", "--clients", clients, "--client", "app-1"}, {"sign", "--key", keyFile, "-"}} {
		out, _, err := cli(t, msg, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		var env struct {
			Signature string          `json:"signature"`
			Header    json.RawMessage `json:"header"`
			Message   json.RawMessage `json:"message"`
		}
		if err := json.Unmarshal([]byte(out), &env); err != nil {
			t.Fatalf("%v: %v in %s", args, err, out)
		}
		sig, err := dci.ParseSignature(env.Signature)
		if err != nil || sig.SenderID != "pension-fund" || sig.KeyID != "demo" {
			t.Fatalf("%v: signature %q: %+v, %v", args, env.Signature, sig, err)
		}
		if err := dci.VerifyEd25519(sig, env.Header, env.Message, pub, time.Now()); err != nil {
			t.Errorf("%v: the signature does not verify: %v", args, err)
		}
	}
	for _, tt := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{msg, []string{"sign"}, "name the key"},
		{msg, []string{"sign", "--clients", clients, "--client", "app-2"}, "no signing_key"},
		{"not json", []string{"sign", "--key", keyFile}, "not a DCI message"},
		{`{"header":{"message_id":"m1"},"message":{}}`, []string{"sign", "--key", keyFile}, "sender_id"},
	} {
		if _, _, err := cli(t, tt.stdin, tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v; want an error saying %q", tt.args, err, tt.want)
		}
	}
}
