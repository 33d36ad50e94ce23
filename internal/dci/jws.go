package dci

import (
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// The JWS variant (OpenCRVS style): signature is a compact JWS whose payload is the JSON of
// {"header": …, "message": …}. The payload is compared with the envelope after both are
// canonicalised (see Canonical), so the signer's member order and spacing do not matter.

// jwsAlgs are the algorithms the hub accepts; the alg header must be one of them.
var jwsAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.EdDSA}

// VerifyJWS checks the compact JWS sig against the sender's keys and the envelope's header
// and message (raw JSON, as received). The key is chosen by the JWS kid (all signing keys
// are tried when it has none); a key whose alg or use contradicts the JWS is skipped.
// Failures are err.signature.missing or err.signature.invalid, of kind Unauthorized.
func VerifyJWS(sig string, header, message json.RawMessage, keys jose.JSONWebKeySet) error {
	sig = strings.TrimSpace(sig)
	if sig == "" {
		return sigMissing()
	}
	if len(sig) > 64<<10 {
		return sigInvalid("JWS too long")
	}
	jws, err := jose.ParseSignedCompact(sig, jwsAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return sigInvalid("neither a DCI signature string (Signature: namespace=\"…\", kidId=\"…|…|ed25519\", …) nor a compact JWS signed with RS256, PS256 or EdDSA")
	}
	h := jws.Signatures[0].Protected
	candidates := keys.Keys
	if h.KeyID != "" {
		candidates = keys.Key(h.KeyID)
	}
	for _, k := range candidates {
		if (k.Use != "" && k.Use != "sig") || (k.Algorithm != "" && k.Algorithm != h.Algorithm) {
			continue
		}
		if !k.IsPublic() {
			k = k.Public()
		}
		if k.Key == nil {
			continue
		}
		payload, err := jws.Verify(k.Key)
		if err != nil {
			continue
		}
		return sameContent(payload, header, message)
	}
	return sigInvalid("no key of the sender verifies the JWS")
}

func sameContent(payload []byte, header, message json.RawMessage) error {
	got, err := Canonical(payload)
	if err != nil {
		return sigInvalid("JWS payload is not JSON")
	}
	want, err := SignedContent(header, message)
	if err != nil {
		return sigInvalid("header or message cannot be canonicalised")
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return sigInvalid("JWS payload does not match header and message")
	}
	return nil
}

// SignJWS signs header and message as a compact JWS with key (a private JWK with its kid):
// RS256 for RSA keys, EdDSA for Ed25519 keys, unless key.Algorithm names another accepted one.
// The payload is SignedContent.
func SignJWS(header, message json.RawMessage, key jose.JSONWebKey) (string, error) {
	alg := jose.SignatureAlgorithm(key.Algorithm)
	switch key.Key.(type) {
	case *rsa.PrivateKey:
		if alg == "" {
			alg = jose.RS256
		}
	case ed25519.PrivateKey:
		if alg == "" {
			alg = jose.EdDSA
		}
	default:
		return "", fault.Wrap(fmt.Errorf("JWS key must be an RSA or Ed25519 private key, not %T", key.Key), "sign")
	}
	payload, err := SignedContent(header, message)
	if err != nil {
		return "", fault.Wrap(err, "sign")
	}
	opts := &jose.SignerOptions{}
	if key.KeyID != "" {
		opts = opts.WithHeader("kid", key.KeyID)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key.Key}, opts)
	if err != nil {
		return "", fault.Wrap(err, "sign")
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fault.Wrap(err, "sign")
	}
	return jws.CompactSerialize()
}
