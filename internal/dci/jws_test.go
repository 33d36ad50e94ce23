package dci_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/dci"
)

func TestVerifyJWS(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaJWK := jose.JSONWebKey{Key: rsaKey, KeyID: "rsa-1", Algorithm: "RS256", Use: "sig"}
	psJWK := jose.JSONWebKey{Key: rsaKey, KeyID: "rsa-1", Algorithm: "PS256", Use: "sig"}
	edJWK := jose.JSONWebKey{Key: edKey, KeyID: "ed-1", Algorithm: "EdDSA", Use: "sig"}
	otherJWK := jose.JSONWebKey{Key: otherKey, KeyID: "ed-1", Use: "sig"}
	keys := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{rsaJWK.Public(), edJWK.Public()}}

	sign := func(key jose.JSONWebKey) string {
		s, err := dci.SignJWS(sigHdr, sigMsg, key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// As OpenCRVS signs: JSON.stringify({header, message}), in the sender's member order.
	stringify := func() string {
		payload := `{"header": ` + string(sigHdr) + `, "message": ` + string(sigMsg) + `}`
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: rsaKey},
			(&jose.SignerOptions{}).WithHeader("kid", "rsa-1"))
		if err != nil {
			t.Fatal(err)
		}
		jws, err := signer.Sign([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		s, _ := jws.CompactSerialize()
		return s
	}()
	noKid := func() string {
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: edKey}, nil)
		content, _ := dci.SignedContent(sigHdr, sigMsg)
		jws, _ := signer.Sign(content)
		s, _ := jws.CompactSerialize()
		return s
	}()
	hs256 := func() string {
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, nil)
		jws, _ := signer.Sign([]byte(`{}`))
		s, _ := jws.CompactSerialize()
		return s
	}()
	tampered := json.RawMessage(strings.Replace(string(sigMsg), "r1", "r2", 1))
	tests := []struct {
		name string
		sig  string
		msg  json.RawMessage
		keys jose.JSONWebKeySet
		want string
	}{
		{"RS256", sign(rsaJWK), sigMsg, keys, ""},
		{"PS256 with a key marked RS256", sign(psJWK), sigMsg, keys, dci.ErrSignatureInvalid},
		{"PS256", sign(psJWK), sigMsg, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{psJWK.Public()}}, ""},
		{"EdDSA", sign(edJWK), sigMsg, keys, ""},
		{"JSON.stringify payload", stringify, sigMsg, keys, ""},
		{"no kid", noKid, sigMsg, keys, ""},
		{"private keys in the set", sign(edJWK), sigMsg, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{edJWK}}, ""},
		{"tampered message", sign(rsaJWK), tampered, keys, dci.ErrSignatureInvalid},
		{"unknown kid", sign(otherJWK), sigMsg, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{rsaJWK.Public()}}, dci.ErrSignatureInvalid},
		{"other key, same kid", sign(otherJWK), sigMsg, keys, dci.ErrSignatureInvalid},
		{"encryption key", sign(edJWK), sigMsg, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub(edKey), KeyID: "ed-1", Use: "enc"}}}, dci.ErrSignatureInvalid},
		{"HS256", hs256, sigMsg, keys, dci.ErrSignatureInvalid},
		{"empty", "", sigMsg, keys, dci.ErrSignatureMissing},
		{"garbage", "a.b.c", sigMsg, keys, dci.ErrSignatureInvalid},
		{"Ed25519 signature string", "Signature: namespace=\"dci\"", sigMsg, keys, dci.ErrSignatureInvalid},
	}
	for _, tt := range tests {
		err := dci.VerifyJWS(tt.sig, sigHdr, tt.msg, tt.keys)
		got := ""
		if err != nil {
			got = dci.CodeOf(err)
		}
		if got != tt.want {
			t.Errorf("VerifyJWS(%s) = %v; want %q", tt.name, err, tt.want)
		}
	}
	if _, err := dci.SignJWS(sigHdr, sigMsg, jose.JSONWebKey{Key: []byte("secret")}); err == nil {
		t.Error("SignJWS with an HMAC key succeeded")
	}
}
