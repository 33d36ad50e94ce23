package devidp

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/crossroads-hub/crossroads/internal/ident"
)

type people map[string]string

func (p people) Name(ctx context.Context, n string) (string, bool, error) {
	s, ok := p[n]
	return s, ok, nil
}
func (p people) Sample(ctx context.Context, n int) ([]Person, error) {
	var out []Person
	for k, v := range p {
		out = append(out, Person{k, v})
	}
	return out, nil
}

const (
	person   = "00010500278"
	redirect = "https://rp.example/callback"
)

type rig struct {
	srv      *httptest.Server
	key      jose.JSONWebKey
	verifier string
}

func newRig(t testing.TB) *rig {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	r := &rig{key: jose.JSONWebKey{Key: priv, KeyID: "rp", Algorithm: string(jose.EdDSA)}, verifier: strings.Repeat("v", 50)}
	mux := http.NewServeMux()
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	idp, err := New(Config{Issuer: r.srv.URL + "/devidp", Persons: people{person: "Louise Mertens"},
		Clients: []Client{{ID: "rp", RedirectURIs: []string{redirect}, Key: r.key.Public()}}})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(Prefix, idp)
	return r
}

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// code goes through the authorize page and returns the code sent back.
func (r *rig) code(t *testing.T) string {
	sum := sha256.Sum256([]byte(r.verifier))
	q := url.Values{"client_id": {"rp"}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"s"}, "nonce": {"n"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	resp, err := http.Get(r.srv.URL + "/devidp/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="request" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("authorize page: %s", page)
	}
	resp, err = noFollow.PostForm(r.srv.URL+"/devidp/authorize", url.Values{"request": {string(m[1])}, "person": {person}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "s" {
		t.Fatalf("redirect %q", resp.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

func (r *rig) assertion(t testing.TB, key jose.JSONWebKey, aud, jti string) string {
	sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, nil)
	s, err := jwt.Signed(sig).Claims(jwt.Claims{Issuer: "rp", Subject: "rp", Audience: jwt.Audience{aud}, ID: jti,
		Expiry: jwt.NewNumericDate(time.Now().Add(time.Minute))}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (r *rig) token(t *testing.T, form url.Values) (int, map[string]any) {
	resp, err := http.PostForm(r.srv.URL+"/devidp/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestToken(t *testing.T) {
	r := newRig(t)
	aud := r.srv.URL + "/devidp/token"
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	otherKey := jose.JSONWebKey{Key: other, KeyID: "rp"}
	form := func(code, verifier, assertion string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
	}
	for _, tc := range []struct {
		name string
		form func(code string) url.Values
		want int
	}{
		{"wrong PKCE verifier", func(c string) url.Values { return form(c, strings.Repeat("w", 50), r.assertion(t, r.key, aud, "1")) }, 400},
		{"no assertion", func(c string) url.Values { f := form(c, r.verifier, ""); f.Del("client_assertion"); return f }, 401},
		{"another key", func(c string) url.Values { return form(c, r.verifier, r.assertion(t, otherKey, aud, "2")) }, 401},
		{"another audience", func(c string) url.Values { return form(c, r.verifier, r.assertion(t, r.key, "https://x.example", "3")) }, 401},
		{"another redirect", func(c string) url.Values {
			f := form(c, r.verifier, r.assertion(t, r.key, aud, "4"))
			f.Set("redirect_uri", "https://evil.example/cb")
			return f
		}, 400},
	} {
		if st, out := r.token(t, tc.form(r.code(t))); st != tc.want {
			t.Errorf("%s: %d %v; want %d", tc.name, st, out, tc.want)
		}
	}
	code := r.code(t)
	good := form(code, r.verifier, r.assertion(t, r.key, aud, "ok"))
	st, out := r.token(t, good)
	if st != 200 || out["id_token"] == nil {
		t.Fatalf("the right exchange: %d %v", st, out)
	}
	if st, _ := r.token(t, good); st != 401 { // the assertion's jti is used
		t.Errorf("a replayed assertion: %d; want 401", st)
	}
	if st, _ := r.token(t, form(code, r.verifier, r.assertion(t, r.key, aud, "again"))); st != 400 { // the code is used
		t.Errorf("a used code: %d; want 400", st)
	}
}

func TestAuthorizeRefusesUnknownRedirect(t *testing.T) {
	r := newRig(t)
	q := url.Values{"client_id": {"rp"}, "redirect_uri": {"https://evil.example/"}, "response_type": {"code"}}
	resp, err := noFollow.Get(r.srv.URL + "/devidp/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
		t.Errorf("an unregistered redirect_uri: %d to %q; want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// A person who cannot log in (not in the register, deceased: the register's Name says
// no; or what was typed is no person number) gets the login page again saying so, in
// the request's language, and can pick another person: not a bare text error.
func TestPersonWhoCannotLogIn(t *testing.T) {
	r := newRig(t)
	dead, err := ident.MakePerson(1931, 3, 4, 12, ident.Register)
	if err != nil {
		t.Fatal(err)
	}
	requestRE := regexp.MustCompile(`name="request" value="([^"]+)"`)
	sum := sha256.Sum256([]byte(r.verifier))
	for _, tc := range []struct{ typed, locale, want string }{
		{dead.String(), "", "cannot log in: no living person of the register has this number"},
		{"12345", "", "cannot log in: this is not a person number"},
		{dead.String(), "fr", "ne peut pas se connecter"},
	} {
		q := url.Values{"client_id": {"rp"}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid"}, "ui_locales": {tc.locale},
			"state": {"s"}, "nonce": {"n"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
		resp, err := http.Get(r.srv.URL + "/devidp/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := requestRE.FindSubmatch(page)
		if m == nil {
			t.Fatalf("authorize page: %s", page)
		}
		resp, err = noFollow.PostForm(r.srv.URL+"/devidp/authorize", url.Values{"request": {string(m[1])}, "person": {tc.typed}})
		if err != nil {
			t.Fatal(err)
		}
		page, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(page), `id="refused"`) || !strings.Contains(string(page), tc.want) {
			t.Errorf("%q logging in: %d %s %s; want 403, a page saying %q", tc.typed, resp.StatusCode, resp.Header.Get("Content-Type"), page, tc.want)
			continue
		}
		// The page offers the login again: another person logs in.
		m = requestRE.FindSubmatch(page)
		if m == nil {
			t.Fatalf("the page offers no login again: %s", page)
		}
		resp, err = noFollow.PostForm(r.srv.URL+"/devidp/authorize", url.Values{"request": {string(m[1])}, "person": {person}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc, _ := url.Parse(resp.Header.Get("Location")); loc == nil || loc.Query().Get("code") == "" {
			t.Errorf("another person after the refusal: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}
