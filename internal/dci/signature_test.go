package dci_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

var (
	edKey    = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	otherKey = ed25519.NewKeyFromSeed([]byte("0123456789abcdef0123456789abcdef"))
	created  = time.Unix(1740823200, 0) // 2025-03-01T10:00:00Z
	expires  = created.Add(5 * time.Minute)
	sigHdr   = json.RawMessage(`{"message_id":"m1","message_ts":"2025-03-01T10:00:00Z","action":"search","sender_id":"sp-mis","total_count":1}`)
	sigMsg   = json.RawMessage(`{"transaction_id":"tx-1","search_request":[{"reference_id":"r1"}]}`)
)

func pub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

func TestSignVerifyEd25519(t *testing.T) {
	s, err := dci.SignEd25519(sigHdr, sigMsg, "sp-mis", "key-1", edKey, created, expires)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, `Signature: namespace="dci", kidId="sp-mis|key-1|ed25519", algorithm="ed25519", created="1740823200", expires="1740823500", headers="(created) (expires) digest", signature="`) {
		t.Errorf("SignEd25519 = %s", s)
	}
	sig, err := dci.ParseSignature(s)
	if err != nil {
		t.Fatal(err)
	}
	if sig.SenderID != "sp-mis" || sig.KeyID != "key-1" || !sig.Created.Equal(created) || !sig.Expires.Equal(expires) {
		t.Errorf("ParseSignature = %+v", sig)
	}
	if sig.String() != s {
		t.Errorf("String() = %s; want %s", sig.String(), s)
	}
	now := created.Add(time.Minute)
	// The same JSON with other member order and spacing verifies: the digest is canonical.
	reordered := json.RawMessage(`{ "total_count": 1, "sender_id": "sp-mis", "action": "search", "message_ts": "2025-03-01T10:00:00Z", "message_id": "m1" }`)
	if err := dci.VerifyEd25519(sig, reordered, sigMsg, pub(edKey), now); err != nil {
		t.Errorf("VerifyEd25519(reordered header) = %v", err)
	}
	tampered := json.RawMessage(strings.Replace(string(sigMsg), "r1", "r2", 1))
	otherSender := json.RawMessage(strings.Replace(string(sigHdr), "sp-mis", "sp-other", 1))
	tests := []struct {
		name    string
		sig     dci.Signature
		hdr     json.RawMessage
		msg     json.RawMessage
		key     ed25519.PublicKey
		now     time.Time
		wantErr bool
	}{
		{"valid", sig, sigHdr, sigMsg, pub(edKey), now, false},
		{"within skew before created", sig, sigHdr, sigMsg, pub(edKey), created.Add(-30 * time.Second), false},
		{"within skew after expiry", sig, sigHdr, sigMsg, pub(edKey), expires.Add(30 * time.Second), false},
		{"tampered message", sig, sigHdr, tampered, pub(edKey), now, true},
		{"other key", sig, sigHdr, sigMsg, pub(otherKey), now, true},
		{"expired", sig, sigHdr, sigMsg, pub(edKey), expires.Add(2 * time.Minute), true},
		{"not yet valid", sig, sigHdr, sigMsg, pub(edKey), created.Add(-2 * time.Minute), true},
		{"header of another sender", sig, otherSender, sigMsg, pub(edKey), now, true},
		{"rsa algorithm", with(sig, func(s *dci.Signature) { s.Algorithm = "rs256" }), sigHdr, sigMsg, pub(edKey), now, true},
		{"other headers", with(sig, func(s *dci.Signature) { s.Headers = "(created) digest" }), sigHdr, sigMsg, pub(edKey), now, true},
		{"moved window", with(sig, func(s *dci.Signature) { s.Expires = s.Expires.Add(time.Hour) }), sigHdr, sigMsg, pub(edKey), now, true},
		{"short signature", with(sig, func(s *dci.Signature) { s.Value = s.Value[:10] }), sigHdr, sigMsg, pub(edKey), now, true},
	}
	for _, tt := range tests {
		err := dci.VerifyEd25519(tt.sig, tt.hdr, tt.msg, tt.key, tt.now)
		if (err != nil) != tt.wantErr {
			t.Errorf("VerifyEd25519(%s) = %v; want error %v", tt.name, err, tt.wantErr)
		}
		if err != nil && (dci.CodeOf(err) != dci.ErrSignatureInvalid || fault.KindOf(err) != fault.Unauthorized) {
			t.Errorf("VerifyEd25519(%s) = %v (%s, %v); want %s, unauthorized", tt.name, err, dci.CodeOf(err), fault.KindOf(err), dci.ErrSignatureInvalid)
		}
	}
	if err := dci.VerifyEd25519(sig, sigHdr, sigMsg, ed25519.PublicKey("short"), now); fault.KindOf(err) != fault.Internal {
		t.Errorf("VerifyEd25519(bad key) = %v; want an internal error", err)
	}
}

func with(s dci.Signature, edit func(*dci.Signature)) dci.Signature {
	s.Value = append([]byte(nil), s.Value...)
	edit(&s)
	return s
}

// TestVerifyEd25519Interop signs as the spec describes without going through SignEd25519,
// and as OpenSPP does (digest without "SHA-256=", no "Signature:" prefix).
func TestVerifyEd25519Interop(t *testing.T) {
	content := `{"header":{"action":"search","message_id":"m1","message_ts":"2025-03-01T10:00:00Z","sender_id":"sp-mis","total_count":1},"message":{"search_request":[{"reference_id":"r1"}],"transaction_id":"tx-1"}}`
	sum := sha256.Sum256([]byte(content))
	digest := base64.StdEncoding.EncodeToString(sum[:])
	for _, prefix := range []string{"SHA-256=", ""} {
		signing := fmt.Sprintf("(created): %d\n(expires): %d\ndigest: %s%s", created.Unix(), expires.Unix(), prefix, digest)
		value := base64.StdEncoding.EncodeToString(ed25519.Sign(edKey, []byte(signing)))
		s := fmt.Sprintf(`namespace="dci", kidId="sp-mis|key-1|ed25519", algorithm="ed25519", created="%d", expires="%d", headers="(created) (expires) digest", signature="%s"`,
			created.Unix(), expires.Unix(), value)
		sig, err := dci.ParseSignature(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := dci.VerifyEd25519(sig, sigHdr, sigMsg, pub(edKey), created); err != nil {
			t.Errorf("VerifyEd25519(digest prefix %q) = %v", prefix, err)
		}
	}
}

func TestSignEd25519Refuses(t *testing.T) {
	for name, f := range map[string]func() (string, error){
		"short key": func() (string, error) {
			return dci.SignEd25519(sigHdr, sigMsg, "sp", "k", edKey[:10], created, expires)
		},
		"bar in sender":   func() (string, error) { return dci.SignEd25519(sigHdr, sigMsg, "s|p", "k", edKey, created, expires) },
		"quote in key id": func() (string, error) { return dci.SignEd25519(sigHdr, sigMsg, "sp", `k"`, edKey, created, expires) },
		"empty window":    func() (string, error) { return dci.SignEd25519(sigHdr, sigMsg, "sp", "k", edKey, created, created) },
		"bad header": func() (string, error) {
			return dci.SignEd25519([]byte(`{`), sigMsg, "sp", "k", edKey, created, expires)
		},
	} {
		if s, err := f(); err == nil {
			t.Errorf("SignEd25519(%s) = %s; want an error", name, s)
		}
	}
}

func TestParseSignature(t *testing.T) {
	const sig = `signature="` + "AAAA" + `"`
	tests := []struct {
		in   string
		want string // "" = parses; else the code
	}{
		{`Signature: namespace="dci", kidId="sp|k1|ed25519", algorithm="ed25519", created="1", expires="2", headers="(created) (expires) digest", ` + sig, ""},
		{`namespace="dci",kidId="sp|k1|ed25519",algorithm="ed25519",created="1",expires="2",headers="(created) (expires) digest",` + sig, ""},
		{`Signature:  keyId="sp|k|1|ed25519", algorithm="ed25519", created="1", expires="2", headers="x", ` + sig, ""},
		{``, dci.ErrSignatureMissing},
		{`   `, dci.ErrSignatureMissing},
		// The samples' placeholder: the last value is not closed.
		{`Signature:  namespace="dci", kidId="{sender_id}|{unique_key_id}|{algorithm}", algorithm="ed25519", created="1606970629", expires="1607030629", headers="(created) (expires) digest", signature="Base64(signing content)`, dci.ErrSignatureInvalid},
		{`kidId="sp|k1|ed25519", algorithm="ed25519", created="1", expires="2", headers="h"`, dci.ErrSignatureInvalid},
		{`kidId="sp|ed25519", algorithm="ed25519", created="1", expires="2", headers="h", ` + sig, dci.ErrSignatureInvalid},
		{`kidId="|k|ed25519", algorithm="ed25519", created="1", expires="2", headers="h", ` + sig, dci.ErrSignatureInvalid},
		{`kidId="sp||ed25519", algorithm="ed25519", created="1", expires="2", headers="h", ` + sig, dci.ErrSignatureInvalid},
		{`kidId="sp|k|", algorithm="ed25519", created="1", expires="2", headers="h", ` + sig, dci.ErrSignatureInvalid},
		{`kidId="sp|k|ed25519", algorithm="ed25519", created="yesterday", expires="2", headers="h", ` + sig, dci.ErrSignatureInvalid},
		{`kidId="sp|k|ed25519", algorithm="ed25519", created="-1", expires="2", headers="h", ` + sig, dci.ErrSignatureInvalid},
		{`kidId="sp|k|ed25519", algorithm="ed25519", created="1", expires="2", headers="h", signature="!!"`, dci.ErrSignatureInvalid},
		{`kidId="sp|k|ed25519", kidId="sp|k|ed25519", algorithm="ed25519", created="1", expires="2", headers="h", ` + sig, dci.ErrSignatureInvalid},
		{`kidId=sp, algorithm="ed25519"`, dci.ErrSignatureInvalid},
		{`kidId="sp|k|ed25519"algorithm="ed25519"`, dci.ErrSignatureInvalid},
		{strings.Repeat("a", 5000), dci.ErrSignatureInvalid},
	}
	for _, tt := range tests {
		_, err := dci.ParseSignature(tt.in)
		got := ""
		if err != nil {
			got = dci.CodeOf(err)
		}
		if got != tt.want {
			t.Errorf("ParseSignature(%.80q) = %v; want %q", tt.in, err, tt.want)
		}
	}
	s, err := dci.ParseSignature(`keyId="sp|k|1|ed25519", algorithm="ed25519", created="1", expires="2", headers="x", ` + sig)
	if err != nil || s.SenderID != "sp" || s.KeyID != "k|1" || s.KeyAlg != "ed25519" {
		t.Errorf("kidId split = %+v, %v; want sp, k|1, ed25519", s, err)
	}
}
