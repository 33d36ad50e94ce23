// Package devidp is a DEVELOPMENT OpenID Connect identity provider: it logs in any
// person of the hub's (synthetic) population, with no password, so that the demo and the
// browser tests can go through the portal's real e-ID login. It speaks the protocol the
// portal expects of a national e-ID provider such as eSignet: discovery, JWKS, the
// authorization code flow with PKCE (S256 only), and a token endpoint that authenticates
// the client by private_key_jwt (RFC 7523) only. It is on in `crossroads demo` and off in
// `crossroads serve` unless --dev-idp: every page it shows says it is for development.
package devidp

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/crossroads-hub/crossroads/internal/ident"
)

// Prefix is where the hub mounts the provider; the issuer is <hub>/devidp.
const Prefix = "/devidp/"

// Person is one person offered on the login page.
type Person struct{ Number, Name string }

// Persons finds the persons the provider logs in.
type Persons interface {
	Name(ctx context.Context, person string) (name string, ok bool, err error)
	Sample(ctx context.Context, n int) ([]Person, error)
}

// Client is a relying party: its redirect URIs (exact match) and the public key its
// client assertions are checked with.
type Client struct {
	ID           string
	RedirectURIs []string
	Key          jose.JSONWebKey
}

// Config is the provider's.
type Config struct {
	Issuer  string // <hub>/devidp, without a trailing slash
	Clients []Client
	Persons Persons
	Log     *slog.Logger
	Now     func() time.Time
}

// IdP is the provider.
type IdP struct {
	cfg  Config
	key  jose.JSONWebKey // private, Ed25519, in memory: a restart changes it
	mux  *http.ServeMux
	page *template.Template

	mu       sync.Mutex
	requests map[string]*request // authorization requests shown, by id
	codes    map[string]*grant   // codes issued, by code
	jtis     map[string]time.Time
}

type request struct {
	client, redirect, state, nonce, challenge string
	french                                    bool // the page's language (ui_locales)
	expires                                   time.Time
}

type grant struct {
	request
	person, name string
}

const (
	requestLife = 10 * time.Minute
	codeLife    = time.Minute
	tokenLife   = 5 * time.Minute
)

// New returns the provider with a fresh signing key.
func New(cfg Config) (*IdP, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Persons == nil || cfg.Issuer == "" {
		return nil, errors.New("devidp: the issuer and the persons are required")
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	d := &IdP{cfg: cfg, requests: map[string]*request{}, codes: map[string]*grant{}, jtis: map[string]time.Time{},
		key: jose.JSONWebKey{Key: priv, KeyID: "devidp-" + random(6), Algorithm: string(jose.EdDSA), Use: "sig"}}
	d.page = template.Must(template.New("login").Parse(loginPage))
	m := http.NewServeMux()
	m.HandleFunc("GET /devidp/.well-known/openid-configuration", d.discovery)
	m.HandleFunc("GET /devidp/jwks.json", d.jwks)
	m.HandleFunc("GET /devidp/style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Write([]byte(style))
	})
	m.HandleFunc("GET /devidp/authorize", d.authorize)
	m.HandleFunc("POST /devidp/authorize", d.login)
	m.HandleFunc("POST /devidp/token", d.token)
	d.mux = m
	return d, nil
}

func (d *IdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	d.mux.ServeHTTP(w, r)
}

func random(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("devidp: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (d *IdP) discovery(w http.ResponseWriter, r *http.Request) {
	iss := d.cfg.Issuer
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token", "jwks_uri": iss + "/jwks.json",
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported":            []string{string(jose.EdDSA)},
		"code_challenge_methods_supported":                 []string{"S256"},
		"token_endpoint_auth_methods_supported":            []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{string(jose.EdDSA), string(jose.ES256)},
		"scopes_supported":                                 []string{"openid", "profile"}, "claims_supported": []string{"sub", "name", "individual_id"},
	})
}

func (d *IdP) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{d.key.Public()}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (d *IdP) client(id string) (Client, bool) {
	i := slices.IndexFunc(d.cfg.Clients, func(c Client) bool { return c.ID == id })
	if i < 0 {
		return Client{}, false
	}
	return d.cfg.Clients[i], true
}

// authorize checks the request and shows the login page. A client or redirect URI it
// does not know gets an error page, never a redirect (an open redirector otherwise).
func (d *IdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, ok := d.client(q.Get("client_id"))
	if !ok || !slices.Contains(c.RedirectURIs, q.Get("redirect_uri")) {
		http.Error(w, "devidp: unknown client or redirect_uri", http.StatusBadRequest)
		return
	}
	fail := func(code, desc string) {
		u, _ := url.Parse(q.Get("redirect_uri"))
		v := u.Query()
		v.Set("error", code)
		v.Set("error_description", desc)
		v.Set("state", q.Get("state"))
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "only the authorization code flow")
		return
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		fail("invalid_scope", "scope must include openid")
		return
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43:
		fail("invalid_request", "PKCE with S256 is required")
		return
	case q.Get("state") == "" || q.Get("nonce") == "":
		fail("invalid_request", "state and nonce are required")
		return
	}
	id := random(24)
	d.mu.Lock()
	d.sweep()
	d.requests[id] = &request{client: c.ID, redirect: q.Get("redirect_uri"), state: q.Get("state"), nonce: q.Get("nonce"),
		challenge: q.Get("code_challenge"), french: strings.HasPrefix(q.Get("ui_locales"), "fr"), expires: d.cfg.Now().Add(requestLife)}
	req := *d.requests[id]
	d.mu.Unlock()
	d.show(w, r, id, req, http.StatusOK, "")
}

// show writes the login page of request id, with why the last attempt was refused
// ("": none).
func (d *IdP) show(w http.ResponseWriter, r *http.Request, id string, req request, status int, refused string) {
	sample, err := d.cfg.Persons.Sample(r.Context(), 8)
	if err != nil {
		d.cfg.Log.Error("devidp: sample persons", "err", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	d.page.Execute(w, map[string]any{"ID": id, "Persons": sample, "French": req.french, "Refused": refused})
}

// Why a person cannot log in, by language.
var cannotLogIn = map[bool]map[string]string{
	false: {"number": "This person cannot log in: this is not a person number.",
		"person": "This person cannot log in: no living person of the register has this number (unknown, or deceased). Pick another."},
	true: {"number": "Cette personne ne peut pas se connecter : ce n'est pas un numéro de personne.",
		"person": "Cette personne ne peut pas se connecter : aucune personne en vie du registre n'a ce numéro (inconnue, ou décédée). Choisissez-en une autre."},
}

// refuse shows the login page again, under a new request id (the refused one was used),
// saying why the person typed cannot log in.
func (d *IdP) refuse(w http.ResponseWriter, r *http.Request, req request, why string) {
	id := random(24)
	d.mu.Lock()
	d.requests[id] = &req
	d.mu.Unlock()
	d.show(w, r, id, req, http.StatusForbidden, cannotLogIn[req.french][why])
}

// sweep drops what expired; d.mu is held.
func (d *IdP) sweep() {
	now := d.cfg.Now()
	for k, v := range d.requests {
		if now.After(v.expires) {
			delete(d.requests, k)
		}
	}
	for k, v := range d.codes {
		if now.After(v.expires) {
			delete(d.codes, k)
		}
	}
	for k, v := range d.jtis {
		if now.After(v) {
			delete(d.jtis, k)
		}
	}
}

// login takes the person picked and sends the browser back with a code.
func (d *IdP) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "devidp: bad form", http.StatusBadRequest)
		return
	}
	d.mu.Lock()
	req := d.requests[r.PostForm.Get("request")]
	delete(d.requests, r.PostForm.Get("request"))
	d.mu.Unlock()
	if req == nil || d.cfg.Now().After(req.expires) {
		http.Error(w, "devidp: the login request expired; start again from the portal", http.StatusBadRequest)
		return
	}
	typed := r.PostForm.Get("pick")
	if typed == "" {
		typed = r.PostForm.Get("person")
	}
	pn, err := ident.ParsePerson(typed)
	if err != nil {
		d.refuse(w, r, *req, "number")
		return
	}
	name, ok, err := d.cfg.Persons.Name(r.Context(), pn.String())
	if err != nil {
		d.cfg.Log.Error("devidp: find the person", "err", err)
		http.Error(w, "devidp: the register could not answer; try again", http.StatusServiceUnavailable)
		return
	}
	if !ok {
		d.refuse(w, r, *req, "person")
		return
	}
	code := random(32)
	g := &grant{request: *req, person: pn.String(), name: name}
	g.expires = d.cfg.Now().Add(codeLife)
	d.mu.Lock()
	d.codes[code] = g
	d.mu.Unlock()
	u, _ := url.Parse(req.redirect)
	v := u.Query()
	v.Set("code", code)
	v.Set("state", req.state)
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// tokenError answers as RFC 6749 says.
func tokenError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// token exchanges a code: the client proves itself with a signed assertion, the code is
// used once, by its client, with its redirect URI and the PKCE verifier of its challenge.
func (d *IdP) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "authorization_code only")
		return
	}
	client, err := d.authenticate(f)
	if err != nil {
		tokenError(w, http.StatusUnauthorized, "invalid_client", err.Error())
		return
	}
	d.mu.Lock()
	g := d.codes[f.Get("code")]
	delete(d.codes, f.Get("code")) // one use, whatever follows
	d.mu.Unlock()
	if g == nil || d.cfg.Now().After(g.expires) || g.client != client || g.redirect != f.Get("redirect_uri") {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code, or another client's or redirect URI's")
		return
	}
	v := f.Get("code_verifier")
	sum := sha256.Sum256([]byte(v))
	if len(v) < 43 || len(v) > 128 || subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.challenge)) != 1 {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "PKCE verifier does not match the challenge")
		return
	}
	idt, err := d.idToken(g)
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", "could not sign")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": random(32), "token_type": "Bearer", "expires_in": int(tokenLife / time.Second), "id_token": idt})
}

// authenticate checks the client assertion (private_key_jwt): signed by the client's
// registered key, iss and sub the client, aud the token endpoint, not expired, at most 5
// minutes long, its jti never seen before.
func (d *IdP) authenticate(f url.Values) (string, error) {
	if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return "", errors.New("private_key_jwt client authentication is required")
	}
	tok, err := jwt.ParseSigned(f.Get("client_assertion"), []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256})
	if err != nil {
		return "", errors.New("client assertion malformed")
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return "", errors.New("client assertion malformed")
	}
	c, ok := d.client(unverified.Issuer)
	if !ok || (f.Get("client_id") != "" && f.Get("client_id") != c.ID) {
		return "", errors.New("unknown client")
	}
	var claims jwt.Claims
	if err := tok.Claims(c.Key.Key, &claims); err != nil {
		return "", errors.New("client assertion signature invalid")
	}
	now := d.cfg.Now()
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: c.ID, Subject: c.ID, AnyAudience: jwt.Audience{d.cfg.Issuer + "/token"}, Time: now}, 30*time.Second); err != nil {
		return "", errors.New("client assertion claims invalid: " + err.Error())
	}
	if claims.Expiry == nil || claims.Expiry.Time().Sub(now) > 5*time.Minute || claims.ID == "" {
		return "", errors.New("client assertion needs exp within 5 minutes and a jti")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, seen := d.jtis[c.ID+"\x00"+claims.ID]; seen {
		return "", errors.New("client assertion replayed")
	}
	d.jtis[c.ID+"\x00"+claims.ID] = claims.Expiry.Time()
	return c.ID, nil
}

func (d *IdP) idToken(g *grant) (string, error) {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: d.key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	now := d.cfg.Now()
	claims := map[string]any{"iss": d.cfg.Issuer, "sub": g.person, "aud": g.client, "iat": now.Unix(), "exp": now.Add(tokenLife).Unix(),
		"nonce": g.nonce, "name": g.name, "individual_id": g.person}
	return jwt.Signed(sig).Claims(claims).Serialize()
}

const loginPage = `<!doctype html>
<html lang="{{if .French}}fr{{else}}en{{end}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Development identity provider</title>
<link rel="stylesheet" href="style.css"></head>
<body><p class="dev" role="alert">{{if .French}}Fournisseur d'identité de DÉVELOPPEMENT : il connecte n'importe qui, sans mot de passe. Pas pour un usage réel.{{else}}DEVELOPMENT identity provider: it logs anyone in, without a password. Not for real use.{{end}}</p>
<main><h1>{{if .French}}Choisissez une personne de la nation synthétique{{else}}Pick a person of the synthetic nation{{end}}</h1>
{{with .Refused}}<p class="refused" role="alert" id="refused">{{.}}</p>{{end}}
<form method="post" action="authorize"><input type="hidden" name="request" value="{{.ID}}">
<label for="person">{{if .French}}Numéro de personne{{else}}Person number{{end}}</label>
<input id="person" name="person" inputmode="numeric" autocomplete="off">
<button type="submit" id="login">{{if .French}}Se connecter comme cette personne{{else}}Log in as this person{{end}}</button>
{{with .Persons}}<h2>{{if $.French}}Ou l'une d'elles{{else}}Or one of these{{end}}</h2><ul>{{range .}}<li><button type="submit" name="pick" value="{{.Number}}" formnovalidate>{{.Name}} ({{.Number}})</button></li>{{end}}</ul>{{end}}
</form></main></body></html>`

const style = `body{font:1rem/1.5 system-ui,sans-serif;margin:0;color:#1a1a1a}main{padding:1rem;max-width:40rem;margin:auto}
.dev{margin:0;padding:.75rem 1rem;background:#fff3cd;color:#5c4500;font-weight:bold;border-bottom:3px solid #5c4500}
label{display:block;font-weight:600;margin-top:.75rem}input{font:inherit;width:100%;padding:.6rem;border:1px solid #6b6b6b;border-radius:4px}
button{font:inherit;font-weight:600;margin-top:.5rem;padding:.6rem 1rem;min-height:44px;color:#fff;background:#0b4f9c;border:0;border-radius:4px}
:focus-visible{outline:3px solid #f2a900;outline-offset:2px}ul{padding:0;list-style:none}
.refused{padding:.75rem 1rem;background:#fdecea;color:#8a1c12;border-left:4px solid #8a1c12}`
