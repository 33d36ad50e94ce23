package portal

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/crossroads-hub/crossroads/internal/ident"
)

// OIDC is the portal as relying party of the national e-ID: authorization code flow with
// PKCE (S256), the client authenticated at the token endpoint by a JWT it signs
// (private_key_jwt, RFC 7523; EdDSA or ES256), as eSignet and other e-ID providers
// require. The person number is read from the ID token's PersonClaim.
type OIDC struct {
	Issuer      string
	ClientID    string
	Key         jose.JSONWebKey // private: Ed25519 or P-256, with its kid
	RedirectURL string          // <hub>/portal/login/callback
	// PersonClaim is the ID token's claim holding the person number; "": individual_id,
	// else sub.
	PersonClaim string
	// Client makes the calls to the provider (discovery, keys, token), with a time-out.
	Client *http.Client

	once     sync.Mutex
	provider *oidc.Provider
}

// oidcPending is a login sent to the provider, kept in the session until it returns.
type oidcPending struct {
	State, Nonce, Verifier string
	Started                time.Time
}

// oidcLife bounds the time from leaving for the provider to coming back.
const oidcLife = 10 * time.Minute

// discover finds the provider's endpoints and keys once (lazily: the provider may be the
// hub itself, not answering yet when the portal is made).
func (o *OIDC) discover(ctx context.Context) (*oidc.Provider, error) {
	o.once.Lock()
	defer o.once.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, o.client()), 10*time.Second)
	defer cancel()
	pr, err := oidc.NewProvider(ctx, o.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover the e-ID provider %s: %w", o.Issuer, err)
	}
	o.provider = pr
	return pr, nil
}

func (o *OIDC) client() *http.Client {
	if o.Client != nil {
		return o.Client
	}
	return &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (o *OIDC) config(pr *oidc.Provider) *oauth2.Config {
	ep := pr.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	return &oauth2.Config{ClientID: o.ClientID, Endpoint: ep, RedirectURL: o.RedirectURL, Scopes: []string{oidc.ScopeOpenID, "profile"}}
}

// assertion is the client's JWT for the token endpoint: iss and sub the client id, aud
// the token endpoint, 2 minutes, a fresh jti.
func (o *OIDC) assertion(aud string, now time.Time) (string, error) {
	alg := jose.EdDSA
	switch o.Key.Key.(type) {
	case ed25519.PrivateKey:
	case *ecdsa.PrivateKey:
		alg = jose.ES256
	default:
		return "", errors.New("the client key is neither Ed25519 nor ECDSA P-256")
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: o.Key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	c := jwt.Claims{Issuer: o.ClientID, Subject: o.ClientID, Audience: jwt.Audience{aud}, ID: randomToken(16),
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(2 * time.Minute))}
	return jwt.Signed(sig).Claims(c).Serialize()
}

// eidStart sends the browser to the provider, with state, nonce and the PKCE challenge.
func (p *Portal) eidStart(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	o := p.cfg.OIDC
	if o == nil {
		return pageErr(http.StatusNotFound, "login.eid.none", nil)
	}
	pr, err := o.discover(r.Context())
	if err != nil {
		return err
	}
	pend := &oidcPending{State: randomToken(24), Nonce: randomToken(24), Verifier: oauth2.GenerateVerifier(), Started: p.now()}
	ss.OIDC = pend
	url := o.config(pr).AuthCodeURL(pend.State, oidc.Nonce(pend.Nonce), oauth2.S256ChallengeOption(pend.Verifier),
		oauth2.SetAuthURLParam("ui_locales", lang))
	http.Redirect(w, r, url, http.StatusFound)
	return nil
}

// eidCallback takes the provider's answer: state checked, code exchanged with the PKCE
// verifier and the client assertion, ID token verified (issuer, audience, signature,
// expiry, nonce), then a new session for the person.
func (p *Portal) eidCallback(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	o, pend := p.cfg.OIDC, ss.OIDC
	ss.OIDC = nil // one use
	q := r.URL.Query()
	if o == nil || pend == nil || p.now().Sub(pend.Started) > oidcLife || !sameToken(q.Get("state"), pend.State) {
		return pageErr(http.StatusBadRequest, "error.login", errors.New("e-ID callback without a matching login in progress"))
	}
	if e := q.Get("error"); e != "" {
		return pageErr(http.StatusUnauthorized, "error.login", fmt.Errorf("the e-ID provider answered %q", clip(e)))
	}
	pr, err := o.discover(r.Context())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), o.client()), 15*time.Second)
	defer cancel()
	cfg := o.config(pr)
	as, err := o.assertion(cfg.Endpoint.TokenURL, p.now())
	if err != nil {
		return err
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(pend.Verifier),
		oauth2.SetAuthURLParam("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
		oauth2.SetAuthURLParam("client_assertion", as))
	if err != nil {
		return pageErr(http.StatusUnauthorized, "error.login", fmt.Errorf("token exchange: %w", err))
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := pr.Verifier(&oidc.Config{ClientID: o.ClientID, Now: p.now}).Verify(ctx, raw)
	if err != nil {
		return pageErr(http.StatusUnauthorized, "error.login", fmt.Errorf("ID token: %w", err))
	}
	if !sameToken(idt.Nonce, pend.Nonce) {
		return pageErr(http.StatusUnauthorized, "error.login", errors.New("ID token nonce does not match"))
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return pageErr(http.StatusUnauthorized, "error.login", err)
	}
	person, _ := claims[o.PersonClaim].(string)
	if o.PersonClaim == "" {
		if person, _ = claims["individual_id"].(string); person == "" {
			person = idt.Subject
		}
	}
	pn, err := ident.ParsePerson(person)
	if err != nil {
		return pageErr(http.StatusUnauthorized, "error.login", errors.New("the ID token names no person number"))
	}
	name, _ := claims["name"].(string)
	p.loggedIn(w, r, ss, pn.String(), name, "eid")
	return nil
}

// loggedIn makes ss the person's session under a new id.
func (p *Portal) loggedIn(w http.ResponseWriter, r *http.Request, ss *session, person, name, via string) {
	ss.Person, ss.Name, ss.Via, ss.Pro, ss.OTP, ss.Proof, ss.Admin = person, clip(name), via, nil, nil, nil, ""
	old := ""
	if c, err := r.Cookie(p.cookieName()); err == nil {
		old = c.Value
	}
	p.setCookie(w, p.sessions.rotate(old, ss))
	p.log.Info("portal: citizen logged in", "via", via) // never the person
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

// clip bounds a text from outside before it is shown or logged.
func clip(s string) string {
	if len(s) > 120 {
		s = s[:120]
	}
	return strings.ToValidUTF8(s, "?")
}
