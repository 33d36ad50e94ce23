package portal

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// CredentialType is the JWS typ of a status credential: a W3C verifiable credential
// secured as a JWT.
const CredentialType = "vc+jwt"

// credentialLife is how long a credential proves its status.
const credentialLife = 24 * time.Hour

// MaxCredential bounds the input VerifyCredential reads; a credential is about 600 bytes.
const MaxCredential = 4 << 10

// Credential is the payload of a status credential: JWT claims around a W3C
// verifiable credential (VC data model 1.1, JWT encoding), holding the least a verifier
// needs: that the holder had the status on the day, and their name for a visual check.
// No person number: the QR code may be shown to anyone.
type Credential struct {
	Issuer    string `json:"iss"`
	ID        string `json:"jti"`
	IssuedAt  int64  `json:"iat"`
	NotBefore int64  `json:"nbf"`
	Expires   int64  `json:"exp"`
	VC        VC     `json:"vc"`
}

// VC is the verifiable credential.
type VC struct {
	Context []string `json:"@context"`
	Type    []string `json:"type"`
	Subject Subject  `json:"credentialSubject"`
}

// Subject is what the credential says about its holder.
type Subject struct {
	Name   string `json:"name"`
	Status string `json:"status"` // the status id: vulnerable, disabled, programme:<name>
	Day    string `json:"on"`     // the day the status was read (YYYY-MM-DD)
}

var (
	vcContext = []string{"https://www.w3.org/2018/credentials/v1"}
	vcTypes   = []string{"VerifiableCredential", "StatusCredential"}
)

// newCredential returns the credential for a status held on day.
func newCredential(issuer, id, name, status, day string, now time.Time) Credential {
	return Credential{Issuer: issuer, ID: id, IssuedAt: now.Unix(), NotBefore: now.Unix(), Expires: now.Add(credentialLife).Unix(),
		VC: VC{Context: vcContext, Type: vcTypes, Subject: Subject{Name: name, Status: status, Day: day}}}
}

// signCredential signs c with the hub's current key.
func signCredential(keys Keys, c Credential) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return keys.SignJWS(CredentialType, payload)
}

var b64 = base64.RawURLEncoding.Strict()

// Why VerifyCredential refuses a credential (errors.Is), each said in its own words on
// the verifier's page.
var (
	ErrNotCredential = errors.New("not a credential")
	ErrSignature     = errors.New("signature invalid")
	ErrIssuer        = errors.New("issued by another hub")
	ErrExpired       = errors.New("expired")
	ErrNotYet        = errors.New("not valid yet")
)

// credentialReason is the message key saying why err refused a credential.
func credentialReason(err error) string {
	for _, r := range []struct {
		err error
		key string
	}{{ErrSignature, "error.cred.signature"}, {ErrIssuer, "error.cred.issuer"}, {ErrExpired, "error.cred.expired"},
		{ErrNotYet, "error.cred.notyet"}, {ErrNotCredential, "error.cred.malformed"}} {
		if errors.Is(err, r.err) {
			return r.key
		}
	}
	return "error.cred.malformed"
}

// skew is the clock difference between issuer and verifier tolerated on nbf.
const skew = time.Minute

// VerifyCredential checks a status credential offline, with nothing but the hub's
// published keys (its /.well-known/jwks.json) and, when issuer is not "", the hub's
// URL: compact JWS, EdDSA, typ vc+jwt, a key of jwks by kid, a valid signature, the
// VC's context and types, in force at now. It returns the credential, which can then be
// trusted.
func VerifyCredential(token string, jwks jose.JSONWebKeySet, issuer string, now time.Time) (Credential, error) {
	var c Credential
	token = strings.TrimSpace(token)
	if len(token) > MaxCredential {
		return c, fmt.Errorf("%w: credential too long", ErrNotCredential)
	}
	hdr64, rest, ok1 := strings.Cut(token, ".")
	pay64, sig64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig64, ".") {
		return c, fmt.Errorf("%w: not a compact JWS", ErrNotCredential)
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}
	if err := strictJSON(hdr64, &h); err != nil {
		return c, fmt.Errorf("%w: header: %v", ErrNotCredential, err)
	}
	if h.Typ != CredentialType {
		return c, fmt.Errorf("%w: header: typ %q; want %s", ErrNotCredential, clip(h.Typ), CredentialType)
	}
	if h.Alg != "EdDSA" { // "none" among them: an unsigned credential proves nothing
		return c, fmt.Errorf("%w: header: alg %q; want EdDSA", ErrSignature, clip(h.Alg))
	}
	key := keyOf(jwks, h.Kid)
	if key == nil {
		return c, fmt.Errorf("%w: signed by a key the hub does not publish", ErrSignature)
	}
	sig, err := b64.DecodeString(sig64)
	if err != nil || len(sig) != ed25519.SignatureSize || !ed25519.Verify(key, []byte(token[:len(hdr64)+1+len(pay64)]), sig) {
		return c, ErrSignature
	}
	if err := strictJSON(pay64, &c); err != nil {
		return c, fmt.Errorf("%w: payload: %v", ErrNotCredential, err)
	}
	switch {
	case issuer != "" && c.Issuer != issuer:
		return c, fmt.Errorf("%w: issued by %q, not %q", ErrIssuer, clip(c.Issuer), issuer)
	case !slices.Equal(c.VC.Context, vcContext) || !slices.Equal(c.VC.Type, vcTypes):
		return c, fmt.Errorf("%w: not a status credential", ErrNotCredential)
	case c.VC.Subject.Status == "" || c.ID == "":
		return c, fmt.Errorf("%w: no status or id", ErrNotCredential)
	case now.Add(skew).Unix() < c.NotBefore:
		return c, ErrNotYet
	case now.Unix() >= c.Expires:
		return c, ErrExpired
	}
	return c, nil
}

// keyOf returns the Ed25519 key kid of jwks, nil when there is none.
func keyOf(jwks jose.JSONWebKeySet, kid string) ed25519.PublicKey {
	if kid == "" {
		return nil
	}
	for _, k := range jwks.Key(kid) {
		if pub, ok := k.Key.(ed25519.PublicKey); ok && k.Algorithm == string(jose.EdDSA) || ok && k.Algorithm == "" {
			return pub
		}
	}
	return nil
}

// strictJSON decodes base64url s as one JSON object into v, refusing unknown fields.
func strictJSON(s string, v any) error {
	raw, err := b64.DecodeString(s)
	if err != nil {
		return errors.New("not base64url")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New("not the expected JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data")
	}
	return nil
}
