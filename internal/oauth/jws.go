package oauth

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// The hub's own JWSs are written and read here rather than by a general JOSE library:
// they are always compact, EdDSA, with a header of exactly alg, kid and typ, so anything
// else is refused before any cryptography, and the strict base64 decoding gives every
// token exactly one spelling (which the verified-token cache relies on).

var (
	errNoKey = errors.New("the key set has no current key")
	b64      = base64.RawURLEncoding.Strict()
)

// maxJWS bounds the input Verify reads; the hub's tokens are well under 1 KiB.
const maxJWS = 8 << 10

// Header is the protected header of a hub JWS.
type Header struct {
	Alg   string `json:"alg"`
	KeyID string `json:"kid"`
	Type  string `json:"typ,omitempty"`
}

// SignJWS returns payload as a compact JWS signed by the current key, with typ (for
// example "at+jwt") in its header so that one kind of document is never taken for another.
func (ks *KeySet) SignJWS(typ string, payload []byte) (string, error) {
	c := ks.state.Load().current
	if c == nil {
		return "", fault.Wrap(errNoKey, "sign")
	}
	h, err := json.Marshal(Header{Alg: "EdDSA", KeyID: c.id, Type: typ})
	if err != nil {
		return "", fault.Wrap(err, "encode a JWS header")
	}
	var sb strings.Builder
	sb.Grow(b64.EncodedLen(len(h)) + b64.EncodedLen(len(payload)) + b64.EncodedLen(ed25519.SignatureSize) + 2)
	sb.WriteString(b64.EncodeToString(h))
	sb.WriteByte('.')
	sb.WriteString(b64.EncodeToString(payload))
	sig := ed25519.Sign(c.priv, []byte(sb.String()))
	sb.WriteByte('.')
	sb.WriteString(b64.EncodeToString(sig))
	return sb.String(), nil
}

// VerifyJWS checks a compact JWS made by SignJWS with a key that still verifies, and
// returns its payload and header. Errors are Unauthorized faults.
func (ks *KeySet) VerifyJWS(jws string) ([]byte, Header, error) {
	return ks.verifyJWS(jws, ks.now())
}

func (ks *KeySet) verifyJWS(jws string, now time.Time) ([]byte, Header, error) {
	var h Header
	if len(jws) > maxJWS {
		return nil, h, fault.Unauthorizedf("token too long")
	}
	hdr64, rest, ok1 := strings.Cut(jws, ".")
	pay64, sig64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig64, ".") {
		return nil, h, fault.Unauthorizedf("token malformed: not a compact JWS")
	}
	if err := decodeHeader(hdr64, &h); err != nil {
		return nil, h, err
	}
	key, ok := ks.lookup(h.KeyID, now)
	if !ok {
		return nil, h, fault.Unauthorizedf("token signed by an unknown key")
	}
	sig, err := b64.DecodeString(sig64)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, h, fault.Unauthorizedf("token signature invalid")
	}
	if !ed25519.Verify(key.pub, []byte(jws[:len(hdr64)+1+len(pay64)]), sig) {
		return nil, h, fault.Unauthorizedf("token signature invalid")
	}
	payload, err := b64.DecodeString(pay64)
	if err != nil {
		return nil, h, fault.Unauthorizedf("token malformed: payload is not base64url")
	}
	return payload, h, nil
}

// decodeHeader reads a header that has exactly the fields the hub writes.
func decodeHeader(hdr64 string, h *Header) error {
	raw, err := b64.DecodeString(hdr64)
	if err != nil {
		return fault.Unauthorizedf("token malformed: header is not base64url")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(h); err != nil {
		return fault.Unauthorizedf("token malformed: header is not the hub's")
	}
	if _, err := dec.Token(); err != io.EOF {
		return fault.Unauthorizedf("token malformed: header is not the hub's")
	}
	if h.Alg != "EdDSA" {
		return fault.Unauthorizedf("token algorithm not accepted (only EdDSA)")
	}
	return nil
}
