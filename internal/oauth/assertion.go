package oauth

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/crossroads-hub/crossroads/internal/directory"
)

// Limits on client assertions.
const (
	maxAssertion     = 16 << 10        // bytes; an RS256 JWT with a 4096-bit key is under 2 KiB
	maxAssertionLife = 5 * time.Minute // exp - (iat or now)
	maxJTI           = 200             // bytes
	clockSkew        = 30 * time.Second
)

// assertionAlgs are the signature algorithms accepted from clients. "none" and the HMAC
// algorithms are absent: a shared secret has its own method, and an HMAC keyed with a
// public key proves nothing.
var assertionAlgs = []jose.SignatureAlgorithm{jose.EdDSA, jose.RS256, jose.PS256}

// authenticateAssertion implements private_key_jwt (RFC 7523 §2.2 and §3).
func (s *Server) authenticateAssertion(ctx context.Context, form url.Values, now time.Time) (directory.Application, error) {
	var none directory.Application
	if t := form.Get("client_assertion_type"); t != AssertionType {
		return none, badRequest("client_assertion_type", "must be %s", AssertionType)
	}
	raw := form.Get("client_assertion")
	if raw == "" {
		return none, badRequest("client_assertion", "is required")
	}
	if len(raw) > maxAssertion {
		return none, badClient(nil, "client assertion too long")
	}
	tok, err := jwt.ParseSigned(raw, assertionAlgs)
	if err != nil {
		return none, badClient(err, "client assertion is not a compact JWS signed with EdDSA, RS256 or PS256")
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return none, badClient(err, "client assertion claims are not a JSON object of JWT claims")
	}
	id := unverified.Issuer
	if id == "" {
		return none, badClient(nil, "client assertion has no iss")
	}
	if fid := form.Get("client_id"); fid != "" && fid != id {
		return none, badClient(nil, "client_id differs from the client assertion's iss")
	}
	app, err := s.application(ctx, id)
	if err != nil {
		return none, err
	}
	claims, err := verifyWithAppKeys(tok, app)
	if err != nil {
		return none, err
	}
	if err := s.checkAssertionClaims(claims, id, now); err != nil {
		return none, err
	}
	if err := admit(app, directory.AuthPrivateKeyJWT); err != nil {
		return none, err
	}
	// Only now, with everything else accepted, is the jti spent.
	if err := s.spent(ctx, id, claims.ID, claims.Expiry.Time(), now); err != nil {
		return none, err
	}
	return app, nil
}

// verifyWithAppKeys checks the signature with the application's key named by kid, or
// with each of its keys when the header has no kid. An unknown application fails like a
// key mismatch, so that the answer does not tell which ids exist.
func verifyWithAppKeys(tok *jwt.JSONWebToken, app directory.Application) (jwt.Claims, error) {
	var claims jwt.Claims
	h := tok.Headers[0]
	for _, raw := range app.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil || !k.IsPublic() {
			continue // the directory validates keys; skip one it should not have let in
		}
		if (h.KeyID != "" && k.KeyID != h.KeyID) || (k.Use != "" && k.Use != "sig") ||
			(k.Algorithm != "" && k.Algorithm != h.Algorithm) {
			continue
		}
		if err := tok.Claims(k, &claims); err == nil {
			return claims, nil
		}
	}
	return claims, badClient(nil, "client assertion is not signed by a key registered for this client")
}

func (s *Server) checkAssertionClaims(c jwt.Claims, id string, now time.Time) error {
	if c.Issuer != id || c.Subject != id {
		return badClient(nil, "client assertion iss and sub must both be the client id")
	}
	if !s.acceptedAudience(c.Audience) {
		return badClient(nil, "client assertion aud must contain %s", s.tokenURL)
	}
	if c.Expiry == nil {
		return badClient(nil, "client assertion has no exp")
	}
	exp := c.Expiry.Time()
	if !now.Before(exp) {
		return badClient(nil, "client assertion expired")
	}
	start := now
	if c.IssuedAt != nil {
		start = c.IssuedAt.Time()
		if start.After(now.Add(clockSkew)) {
			return badClient(nil, "client assertion issued in the future (iat)")
		}
	}
	if exp.Sub(start) > maxAssertionLife {
		return badClient(nil, "client assertion lives too long: exp must be at most 5 minutes after iat")
	}
	if c.NotBefore != nil && c.NotBefore.Time().After(now.Add(clockSkew)) {
		return badClient(nil, "client assertion not valid yet (nbf)")
	}
	if c.ID == "" || len(c.ID) > maxJTI {
		return badClient(nil, "client assertion needs a jti of 1 to %d bytes", maxJTI)
	}
	return nil
}

func (s *Server) acceptedAudience(aud jwt.Audience) bool {
	return slices.ContainsFunc(aud, func(a string) bool {
		a = strings.TrimSuffix(a, "/")
		return a == s.tokenURL || a == s.issuer
	})
}
