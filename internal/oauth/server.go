package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Audience is the aud of every access token: the hub's exchange API.
const Audience = "crossroads"

// TokenType is the typ header of access tokens (RFC 9068).
const TokenType = "at+jwt"

// TokenPath is where the DCI authorization API puts the token endpoint.
const TokenPath = "/oauth2/client/token"

// Config is what a Server needs.
type Config struct {
	// Issuer is the hub's base URL: the iss of its tokens, and an accepted aud of client
	// assertions (the other is TokenURL).
	Issuer string
	// TokenURL is the token endpoint's URL; default Issuer+TokenPath.
	TokenURL  string
	Directory *directory.Directory
	Keys      *KeySet
	// Lifetime of access tokens, in whole seconds; default 5 minutes.
	Lifetime time.Duration
	// StatusTTL is how long Verify trusts an application status it has read; default
	// 5 seconds. Suspending an application takes at most this long to refuse its tokens.
	StatusTTL time.Duration
	Now       func() time.Time // default time.Now
	Rand      io.Reader        // token ids; default crypto/rand
	// Guesses limits failed client authentications (zero fields: the defaults).
	Guesses GuessLimits
	// UsedOnce is where the replicas of the hub share the jti of client assertions; nil:
	// this process's memory alone (replay.go).
	UsedOnce UsedOnce
}

// Server issues and verifies access tokens. It is safe for concurrent use.
type Server struct {
	issuer, tokenURL string
	dir              *directory.Directory
	keys             *KeySet
	lifetime         time.Duration
	now              func() time.Time
	rand             io.Reader

	replay   *replayCache
	usedOnce UsedOnce
	verified *tokenCache
	status   *statusCache
	guesses  guesses
	noCache  bool // tests and benchmarks measure the uncached path
}

// NewServer checks c and returns a Server.
func NewServer(c Config) (*Server, error) {
	iss := strings.TrimSuffix(c.Issuer, "/")
	if u, err := url.Parse(iss); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fault.Invalidf("issuer", "must be the hub's absolute base URL")
	}
	if c.Directory == nil || c.Keys == nil {
		return nil, fault.Invalidf("", "a directory and a key set are required")
	}
	if c.Lifetime == 0 {
		c.Lifetime = 5 * time.Minute
	}
	if c.Lifetime < time.Second || c.Lifetime%time.Second != 0 {
		return nil, fault.Invalidf("lifetime", "must be a whole number of seconds")
	}
	if c.StatusTTL <= 0 {
		c.StatusTTL = 5 * time.Second
	}
	if c.TokenURL == "" {
		c.TokenURL = iss + TokenPath
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	return &Server{
		issuer: iss, tokenURL: c.TokenURL, dir: c.Directory, keys: c.Keys,
		lifetime: c.Lifetime, now: c.Now, rand: c.Rand,
		replay:   newReplayCache(maxReplayEntries),
		usedOnce: c.UsedOnce,
		verified: newTokenCache(maxTokenEntries),
		status:   newStatusCache(c.StatusTTL),
		guesses:  newGuesses(c.Guesses, c.Now),
	}, nil
}

// TokenResponse is the body of a successful token response (RFC 6749 §5.1; the DCI
// OAuth2ClientTokenResponse has the same field names).
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}

// GrantClientCredentials is the only grant the hub supports.
const GrantClientCredentials = "client_credentials"

// Token answers a token request. form holds the request body's parameters; basicUser and
// basicPass are the decoded HTTP Basic credentials, empty when there are none (they are
// URL-decoded here, as RFC 6749 §2.3.1 asks); from is the caller's address ("" if
// unknown), for the limit on failed authentications (GuessLimits). Errors are
// *fault.Error values whose ErrorCode is the OAuth error; their messages never repeat a
// secret or an assertion.
func (s *Server) Token(ctx context.Context, form url.Values, basicUser, basicPass, from string) (TokenResponse, error) {
	for name, vs := range form {
		if len(vs) > 1 {
			return TokenResponse{}, badRequest(clip(name), "is repeated; each parameter may appear once")
		}
	}
	switch gt := form.Get("grant_type"); gt {
	case GrantClientCredentials:
	case "":
		return TokenResponse{}, badRequest("grant_type", "is required (client_credentials)")
	default:
		return TokenResponse{}, oauthErr(fault.Invalid, CodeUnsupportedGrantType, "grant_type", nil,
			"%q is not supported; use client_credentials", clip(gt))
	}
	// The scope is checked before authentication so that a bad request does not use up
	// the jti of a good assertion.
	scopes, err := parseScope(form.Get("scope"))
	if err != nil {
		return TokenResponse{}, err
	}
	now := s.now()
	try, err := s.guesses.begin(claimedClient(form, basicUser), from)
	if err != nil {
		return TokenResponse{}, err
	}
	app, err := s.authenticate(ctx, form, basicUser, basicPass, now)
	try.end(fault.KindOf(err) == fault.Unauthorized)
	if err != nil {
		return TokenResponse{}, err
	}
	return s.issue(app, scopes, now)
}

// accessClaims are the claims of an access token.
type accessClaims struct {
	Issuer      string `json:"iss"`
	Subject     string `json:"sub"`
	Audience    string `json:"aud"`
	IssuedAt    int64  `json:"iat"`
	Expires     int64  `json:"exp"`
	ID          string `json:"jti"`
	ClientID    string `json:"client_id"`
	Institution string `json:"institution"`
	Scope       string `json:"scope"`
}

func (s *Server) issue(app directory.Application, scopes []string, now time.Time) (TokenResponse, error) {
	var id [16]byte
	if _, err := io.ReadFull(s.rand, id[:]); err != nil {
		return TokenResponse{}, fault.Wrap(err, "draw a token id")
	}
	scope := strings.Join(scopes, " ")
	payload, err := json.Marshal(accessClaims{
		Issuer: s.issuer, Subject: app.ID, Audience: Audience,
		IssuedAt: now.Unix(), Expires: now.Add(s.lifetime).Unix(),
		ID: base64.RawURLEncoding.EncodeToString(id[:]), ClientID: app.ID,
		Institution: app.Institution, Scope: scope,
	})
	if err != nil {
		return TokenResponse{}, fault.Wrap(err, "encode token claims")
	}
	tok, err := s.keys.SignJWS(TokenType, payload)
	if err != nil {
		return TokenResponse{}, err
	}
	return TokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int(s.lifetime / time.Second), Scope: scope}, nil
}
