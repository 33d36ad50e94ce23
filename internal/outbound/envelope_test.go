package outbound_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/outbound"
)

// TestEnvelope: the hub's message verifies with its key, names the hub as sender, and
// leaves out a message it does not have.
func TestEnvelope(t *testing.T) {
	keys := oauth.NewKeySet(time.Now)
	kid, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, message := range []any{map[string]string{"transaction_id": "t1"}, nil} {
		b, err := outbound.Envelope(keys, map[string]string{"message_id": "m1"}, message, now)
		if err != nil {
			t.Fatal(err)
		}
		var env struct {
			Signature string          `json:"signature"`
			Header    json.RawMessage `json:"header"`
			Message   json.RawMessage `json:"message"`
		}
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatal(err)
		}
		if (message == nil) != (env.Message == nil) {
			t.Errorf("Envelope(message %v) = %s; want the message member only with a message", message, b)
		}
		sig, err := dci.ParseSignature(env.Signature)
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := keys.PublicKey(kid)
		if err := dci.VerifyEd25519(sig, env.Header, env.Message, pub, now); err != nil {
			t.Errorf("Envelope's signature: %v", err)
		}
		if sig.SenderID != outbound.SenderID || sig.KeyID != kid || !sig.Expires.Equal(sig.Created.Add(outbound.SignatureLifetime)) {
			t.Errorf("signature by %s key %s, %v to %v; want %s, %s, valid %v", sig.SenderID, sig.KeyID, sig.Created, sig.Expires,
				outbound.SenderID, kid, outbound.SignatureLifetime)
		}
	}
}
