package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Claims is what an access token proves about its bearer.
type Claims struct {
	ClientID    string
	Institution string
	Scopes      []string
	Expires     time.Time
	ID          string // the token's jti
}

// HasScope reports whether the token grants scope s.
func (c Claims) HasScope(s string) bool { return slices.Contains(c.Scopes, s) }

// Verify checks an access token and returns its claims. Errors are Unauthorized faults
// with ErrorCode invalid_token; the HTTP layer answers 401 with
// `WWW-Authenticate: Bearer error="invalid_token"`.
//
// A token that verified once is remembered, keyed by its SHA-256, until it expires; a
// remembered token is still refused once it expires, once its key is retired, or once
// its application is no longer active, so the cache changes the cost and not the answer.
// The application's status is itself cached for Config.StatusTTL.
func (s *Server) Verify(ctx context.Context, token string) (Claims, error) {
	if token == "" {
		return Claims{}, badToken("token missing")
	}
	if len(token) > maxJWS {
		return Claims{}, badToken("token too long") // refused before hashing it
	}
	now := s.now()
	sum := sha256.Sum256(stringBytes(token))
	e, ok := s.verified.get(sum)
	if !ok || s.noCache {
		var err error
		if e, err = s.verifyToken(token, now); err != nil {
			return Claims{}, err
		}
		if !s.noCache && now.Before(e.claims.Expires) {
			s.verified.put(sum, e, now)
		}
	}
	if !now.Before(e.claims.Expires) {
		return Claims{}, badToken("token expired")
	}
	if _, ok := s.keys.lookup(e.kid, now); !ok {
		return Claims{}, badToken("token signed by an unknown key")
	}
	if err := s.status.check(ctx, s.dir, e.claims.ClientID, now); err != nil {
		return Claims{}, err
	}
	c := e.claims
	c.Scopes = slices.Clone(c.Scopes)
	return c, nil
}

// verifyToken does the full check of a token not seen before: signature, header and
// claims. Expiry, key retirement and status are checked by the caller on every call.
func (s *Server) verifyToken(token string, now time.Time) (tokenEntry, error) {
	payload, h, err := s.keys.verifyJWS(token, now)
	if err != nil {
		var fe *fault.Error
		if errors.As(err, &fe) {
			return tokenEntry{}, badToken("%s", fe.Msg)
		}
		return tokenEntry{}, err
	}
	if h.Type != TokenType {
		return tokenEntry{}, badToken("token is not an access token (typ %q)", clip(h.Type))
	}
	var c accessClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return tokenEntry{}, badToken("token malformed: claims are not the hub's")
	}
	switch {
	case c.Issuer != s.issuer:
		return tokenEntry{}, badToken("token issuer wrong")
	case c.Audience != Audience:
		return tokenEntry{}, badToken("token audience wrong")
	case c.ClientID == "" || c.Subject != c.ClientID || c.ID == "":
		return tokenEntry{}, badToken("token malformed: client_id, sub or jti missing")
	case time.Unix(c.IssuedAt, 0).After(now.Add(clockSkew)):
		return tokenEntry{}, badToken("token issued in the future")
	}
	return tokenEntry{kid: h.KeyID, claims: Claims{
		ClientID: c.ClientID, Institution: c.Institution,
		Scopes: strings.Fields(c.Scope), Expires: time.Unix(c.Expires, 0), ID: c.ID,
	}}, nil
}

// stringBytes views s as bytes without copying: converting a token of several hundred
// bytes allocated on every request and cost more than hashing it. The bytes are only read.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
