package dci

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// The Ed25519 signature string is the spec's example made precise (the standard shows
// only an example):
//
//	Signature: namespace="dci", kidId="{sender_id}|{key_id}|ed25519", algorithm="ed25519",
//	created="<unix>", expires="<unix>", headers="(created) (expires) digest", signature="<base64>"
//
// The signature is Ed25519 over the signing string
//
//	(created): <created>\n(expires): <expires>\ndigest: SHA-256=<base64 SHA-256 of SignedContent>
//
// VerifyEd25519 also accepts the digest line without "SHA-256=", as OpenSPP writes it.

// SignatureHeaders is the only headers parameter the hub signs and accepts.
const SignatureHeaders = "(created) (expires) digest"

// ClockSkew is how far created and expires may be off the verifier's clock.
const ClockSkew = time.Minute

// maxSignature bounds the signature string a partner may send.
const maxSignature = 4096

// Signature is a parsed signature string.
type Signature struct {
	Namespace string    // "dci" (the spec's example says "spdci"); not checked
	SenderID  string    // from kidId
	KeyID     string    // from kidId: which of the sender's keys
	KeyAlg    string    // from kidId
	Algorithm string    // "ed25519"
	Created   time.Time // whole seconds
	Expires   time.Time
	Headers   string // SignatureHeaders
	Value     []byte // the raw signature
}

// String writes the signature string, "Signature: " prefix included as in the spec.
// Values are written between plain quotes, as ParseSignature reads them.
func (s Signature) String() string {
	return fmt.Sprintf(`Signature: namespace="%s", kidId="%s|%s|%s", algorithm="%s", created="%d", expires="%d", headers="%s", signature="%s"`,
		s.Namespace, s.SenderID, s.KeyID, s.KeyAlg, s.Algorithm, s.Created.Unix(), s.Expires.Unix(), s.Headers,
		base64.StdEncoding.EncodeToString(s.Value))
}

func sigInvalid(format string, args ...any) *fault.Error {
	return Coded(fault.Unauthorized, ErrSignatureInvalid, "signature", fmt.Sprintf(format, args...))
}

func sigMissing() *fault.Error {
	return Coded(fault.Unauthorized, ErrSignatureMissing, "signature", "is required")
}

// SignEd25519 signs header and message (raw JSON, as they will be sent) for senderID with
// key, and returns the signature string to put in the envelope's signature.
func SignEd25519(header, message json.RawMessage, senderID, keyID string, key ed25519.PrivateKey, created, expires time.Time) (string, error) {
	if len(key) != ed25519.PrivateKeySize {
		return "", fault.Wrap(fmt.Errorf("not an Ed25519 private key"), "sign")
	}
	return SignEd25519With(header, message, senderID, keyID, func(b []byte) []byte { return ed25519.Sign(key, b) }, created, expires)
}

// SignEd25519With is SignEd25519 with the key behind sign, which returns the Ed25519
// signature of its argument.
func SignEd25519With(header, message json.RawMessage, senderID, keyID string, sign func([]byte) []byte, created, expires time.Time) (string, error) {
	if !safeParam(senderID) || strings.Contains(senderID, "|") || !safeParam(keyID) || keyID == "" {
		return "", fault.Wrap(fmt.Errorf("sender id %q or key id %q cannot be written in kidId", senderID, keyID), "sign")
	}
	created, expires = created.Truncate(time.Second), expires.Truncate(time.Second)
	if !expires.After(created) {
		return "", fault.Wrap(fmt.Errorf("expires %v is not after created %v", expires, created), "sign")
	}
	content, err := SignedContent(header, message)
	if err != nil {
		return "", fault.Wrap(err, "sign")
	}
	s := Signature{
		Namespace: "dci", SenderID: senderID, KeyID: keyID, KeyAlg: "ed25519", Algorithm: "ed25519",
		Created: created, Expires: expires, Headers: SignatureHeaders,
	}
	s.Value = sign([]byte(signingString(created, expires, content, true)))
	return s.String(), nil
}

// safeParam reports whether s can stand inside a quoted parameter: no quote, no control character.
func safeParam(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r == '"' || isControl(r) })
}

func signingString(created, expires time.Time, content []byte, prefix bool) string {
	sum := sha256.Sum256(content)
	d := base64.StdEncoding.EncodeToString(sum[:])
	if prefix {
		d = "SHA-256=" + d
	}
	return fmt.Sprintf("(created): %d\n(expires): %d\ndigest: %s", created.Unix(), expires.Unix(), d)
}

// ParseSignature reads a signature string, with or without its "Signature:" prefix. It
// checks the form, not the signature: see VerifyEd25519. An empty string gives
// err.signature.missing; anything malformed err.signature.invalid.
func ParseSignature(s string) (Signature, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Signature{}, sigMissing()
	}
	if len(s) > maxSignature {
		return Signature{}, sigInvalid("longer than %d bytes", maxSignature)
	}
	if len(s) >= 10 && strings.EqualFold(s[:10], "signature:") {
		s = s[10:]
	}
	params, err := sigParams(s)
	if err != nil {
		return Signature{}, sigInvalid("%v", err)
	}
	kid, ok := params["kidId"]
	if !ok {
		kid, ok = params["keyId"] // the spec's unused Signature security scheme spells it so
	}
	var sig Signature
	first, last := strings.Index(kid, "|"), strings.LastIndex(kid, "|")
	if !ok || first <= 0 || last == first || last == len(kid)-1 || last == first+1 {
		return Signature{}, sigInvalid(`kidId must be "{sender_id}|{key_id}|{algorithm}"`)
	}
	sig.SenderID, sig.KeyID, sig.KeyAlg = kid[:first], kid[first+1:last], kid[last+1:]
	sig.Namespace, sig.Algorithm, sig.Headers = params["namespace"], params["algorithm"], params["headers"]
	if sig.Algorithm == "" || sig.Headers == "" {
		return Signature{}, sigInvalid("algorithm and headers are required")
	}
	if sig.Created, err = unixParam(params, "created"); err != nil {
		return Signature{}, sigInvalid("%v", err)
	}
	if sig.Expires, err = unixParam(params, "expires"); err != nil {
		return Signature{}, sigInvalid("%v", err)
	}
	if sig.Value, err = decodeBase64(params["signature"]); err != nil || len(sig.Value) == 0 {
		return Signature{}, sigInvalid("signature must be base64")
	}
	return sig, nil
}

// sigParams reads name="value" pairs separated by commas and spaces. Values cannot hold
// quotes (none of the parameters needs them); a name may appear once.
func sigParams(s string) (map[string]string, error) {
	params := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return params, nil
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 || !isToken(s[:eq]) {
			return nil, fmt.Errorf("expected name=\"value\"")
		}
		name := s[:eq]
		s = s[eq+1:]
		if !strings.HasPrefix(s, `"`) {
			return nil, fmt.Errorf("value of %.20s must be quoted", name)
		}
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return nil, fmt.Errorf("value of %.20s is not closed", name)
		}
		if _, dup := params[name]; dup {
			return nil, fmt.Errorf("%.20s given twice", name)
		}
		params[name] = s[1 : 1+end]
		s = s[end+2:]
		if s != "" && s[0] != ',' && s[0] != ' ' && s[0] != '\t' {
			return nil, fmt.Errorf("expected a comma after %.20s", name)
		}
	}
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func unixParam(params map[string]string, name string) (time.Time, error) {
	v, ok := params[name]
	if !ok {
		return time.Time{}, fmt.Errorf("%s is required", name)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > 1<<40 || strings.HasPrefix(v, "+") {
		return time.Time{}, fmt.Errorf("%s must be a Unix time in seconds", name)
	}
	return time.Unix(n, 0), nil
}

// decodeBase64 accepts standard base64 with or without padding, and the URL alphabet.
func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not base64")
}

// VerifyEd25519 checks sig over header and message (raw JSON, as received) with the
// sender's key pub: algorithm ed25519, the headers parameter, the validity window
// (created ≤ now and now ≤ expires, within ClockSkew), the kidId's sender against
// header.sender_id when the header has one, and the Ed25519 signature itself.
// Failures are err.signature.invalid, of kind Unauthorized.
func VerifyEd25519(sig Signature, header, message json.RawMessage, pub ed25519.PublicKey, now time.Time) error {
	if len(pub) != ed25519.PublicKeySize {
		return fault.Wrap(fmt.Errorf("verification key is not an Ed25519 public key"), "verify signature")
	}
	switch {
	case !strings.EqualFold(sig.Algorithm, "ed25519") || (sig.KeyAlg != "" && !strings.EqualFold(sig.KeyAlg, "ed25519")):
		return sigInvalid("algorithm must be ed25519")
	case sig.Headers != SignatureHeaders:
		return sigInvalid("headers must be %q", SignatureHeaders)
	case !sig.Expires.After(sig.Created):
		return sigInvalid("expires is not after created")
	case sig.Created.After(now.Add(ClockSkew)):
		return sigInvalid("created is in the future")
	case now.After(sig.Expires.Add(ClockSkew)):
		return sigInvalid("signature expired")
	case len(sig.Value) != ed25519.SignatureSize:
		return sigInvalid("not an Ed25519 signature")
	}
	if h := fields(header); h != nil {
		if sender, err := str(h, "sender_id"); err != nil || (sender != "" && sender != sig.SenderID) {
			return sigInvalid("kidId names another sender than header.sender_id")
		}
	}
	content, err := SignedContent(header, message)
	if err != nil {
		return sigInvalid("header or message cannot be canonicalised")
	}
	for _, prefix := range []bool{true, false} {
		if ed25519.Verify(pub, []byte(signingString(sig.Created, sig.Expires, content, prefix)), sig.Value) {
			return nil
		}
	}
	return sigInvalid("signature does not match")
}
