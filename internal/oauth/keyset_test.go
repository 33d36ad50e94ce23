package oauth

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

func newTestKeySet(t *testing.T, clk *clock, seed byte) *KeySet {
	t.Helper()
	ks := NewKeySet(clk.Now)
	ks.Rand = mrand.NewChaCha8([32]byte{seed})
	_, err := ks.Generate()
	must(t, err)
	return ks
}

func TestKeySetGenerate(t *testing.T) {
	clk := &clock{t: t0}
	ks := newTestKeySet(t, clk, 1)
	if _, err := ks.Generate(); fault.KindOf(err) != fault.Conflict {
		t.Errorf("second Generate = %v; want Conflict", err)
	}
	if a, b := ks.Keys()[0].ID, newTestKeySet(t, clk, 1).Keys()[0].ID; a != b {
		t.Errorf("same entropy gave kids %s and %s", a, b)
	}
	jwks := ks.PublicJWKS()
	if len(jwks.Keys) != 1 {
		t.Fatalf("PublicJWKS has %d keys; want 1", len(jwks.Keys))
	}
	k := jwks.Keys[0]
	tp, err := k.Thumbprint(crypto.SHA256)
	must(t, err)
	if k.KeyID != base64.RawURLEncoding.EncodeToString(tp) {
		t.Errorf("kid %s is not the RFC 7638 thumbprint", k.KeyID)
	}
	b, err := json.Marshal(jwks)
	must(t, err)
	var doc struct{ Keys []map[string]string }
	must(t, json.Unmarshal(b, &doc))
	got := doc.Keys[0]
	if got["d"] != "" || got["kty"] != "OKP" || got["crv"] != "Ed25519" || got["use"] != "sig" || got["alg"] != "EdDSA" || got["kid"] == "" {
		t.Errorf("JWKS key = %v; want a public OKP Ed25519 key with kid, use sig, alg EdDSA", got)
	}
}

func TestKeySetSignatures(t *testing.T) {
	clk := &clock{t: t0}
	ks := newTestKeySet(t, clk, 1)
	s, err := ks.Current()
	must(t, err)
	msg := []byte("checkpoint 42")
	sig := s.Sign(msg)
	if err := ks.VerifySignature(s.KeyID, msg, sig); err != nil {
		t.Errorf("VerifySignature = %v", err)
	}
	if err := ks.VerifySignature(s.KeyID, []byte("checkpoint 43"), sig); err == nil {
		t.Error("VerifySignature accepted another message")
	}
	if err := ks.VerifySignature("nope", msg, sig); err == nil {
		t.Error("VerifySignature accepted an unknown kid")
	}
	if pub, ok := ks.PublicKey(s.KeyID); !ok || !pub.Equal(s.Public()) {
		t.Error("PublicKey does not return the current key")
	}
	jws, err := ks.SignJWS("example+jws", msg)
	must(t, err)
	payload, h, err := ks.VerifyJWS(jws)
	if err != nil || string(payload) != string(msg) || h.Type != "example+jws" || h.KeyID != s.KeyID {
		t.Errorf("VerifyJWS = %q, %+v, %v", payload, h, err)
	}
	if _, err := NewKeySet(clk.Now).Current(); err == nil {
		t.Error("Current on an empty set succeeded")
	}
}

func TestKeySetPersistence(t *testing.T) {
	clk := &clock{t: t0}
	ks := newTestKeySet(t, clk, 1)
	oldTok, err := ks.SignJWS("x", []byte("old"))
	must(t, err)
	clk.Advance(time.Hour)
	_, err = ks.Rotate(10 * time.Minute)
	must(t, err)
	b, err := ks.MarshalPrivate()
	must(t, err)

	loaded, err := LoadKeySet(b, clk.Now)
	must(t, err)
	if got, want := loaded.Keys(), ks.Keys(); len(got) != 2 || got[0].ID != want[0].ID || got[1].ID != want[1].ID ||
		!got[1].Retires.Equal(want[1].Retires) || !got[0].Created.Equal(want[0].Created) {
		t.Fatalf("loaded keys %+v; want %+v", got, want)
	}
	if _, _, err := loaded.VerifyJWS(oldTok); err != nil {
		t.Errorf("loaded set refuses a token of the rotated key: %v", err)
	}
	clk.Advance(10 * time.Minute)
	if _, _, err := loaded.VerifyJWS(oldTok); err == nil {
		t.Error("loaded set accepts a token of a retired key")
	}
	if again, err := LoadKeySet(b, clk.Now); err != nil || len(again.Keys()) != 1 {
		t.Errorf("loading after retirement: %v keys, %v; want 1 key", len(again.Keys()), err)
	}
}

func TestLoadKeySetRejects(t *testing.T) {
	clk := &clock{t: t0}
	good, err := newTestKeySet(t, clk, 1).MarshalPrivate()
	must(t, err)
	var f keyFile
	must(t, json.Unmarshal(good, &f))
	second, err := newTestKeySet(t, clk, 2).MarshalPrivate()
	must(t, err)
	var g keyFile
	must(t, json.Unmarshal(second, &g))
	enc := func(f keyFile) []byte { b, _ := json.Marshal(f); return b }

	badKid := f
	badKid.Keys = []keyRecord{f.Keys[0]}
	badKid.Keys[0].JWK.KeyID = "chosen"
	public := f
	public.Keys = []keyRecord{f.Keys[0]}
	public.Keys[0].JWK = f.Keys[0].JWK.Public()
	twoCurrent := keyFile{Keys: []keyRecord{f.Keys[0], g.Keys[0]}}
	duplicate := keyFile{Keys: []keyRecord{f.Keys[0], f.Keys[0]}}

	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"not JSON", []byte(`{"keys": [{"jwk": {"d": "c2VjcmV0`), "not valid JSON"},
		{"kid is not the thumbprint", enc(badKid), "thumbprint"},
		{"public key only", enc(public), "not a private Ed25519 key"},
		{"two current keys", enc(twoCurrent), "more than one current key"},
		{"the same key twice", enc(duplicate), "twice"},
		{"no key", []byte(`{"keys": []}`), "no current key"},
	}
	for _, tc := range tests {
		_, err := LoadKeySet(tc.b, clk.Now)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadKeySet(%s) = %v; want %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "c2VjcmV0") {
			t.Errorf("LoadKeySet(%s) error repeats the file: %v", tc.name, err)
		}
	}
}
