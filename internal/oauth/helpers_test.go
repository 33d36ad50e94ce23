package oauth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	mrand "math/rand/v2"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

const issuer = "https://hub.example"

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// clock is a settable clock shared by the store, the directory and the server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *clock) Set(t time.Time)         { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// clientKey is a client's key pair, registered (or not) in the directory.
type clientKey struct {
	kid  string
	priv any // ed25519.PrivateKey or *rsa.PrivateKey
	pub  any
}

func (k clientKey) jwk(t testing.TB) json.RawMessage {
	b, err := json.Marshal(jose.JSONWebKey{Key: k.pub, KeyID: k.kid})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func edKey(t testing.TB, kid string, seed byte) clientKey {
	priv := ed25519.NewKeyFromSeed(bytesOf(seed, ed25519.SeedSize))
	return clientKey{kid: kid, priv: priv, pub: priv.Public()}
}

func bytesOf(b byte, n int) []byte { return []byte(strings.Repeat(string(rune(b)), n)) }

// rsaKey is generated once: RSA key generation is slow.
var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// hub is a directory with applications, and a token server over it.
type hub struct {
	clock   *clock
	dir     *directory.Directory
	keys    *KeySet
	srv     *Server
	secrets map[string]string // application id → client secret
	ed, rsa clientKey         // registered keys of "app-jwt"
	stray   clientKey         // a key registered nowhere
	jtis    int
	db      *sqlstore.DB
}

// newHub opens a real SQLite directory with these applications:
//
//	app-secret     active, client_secret, one Ed25519 key registered
//	app-jwt        active, private_key_jwt, Ed25519 "ed-1" and RSA "rsa-1"
//	app-suspended  suspended, client_secret
func newHub(t testing.TB) *hub {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: t0}
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "hub.db"), sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = clk.Now
	h := &hub{
		clock: clk, dir: directory.New(db.Directory(), clk.Now), secrets: map[string]string{},
		ed: edKey(t, "ed-1", 1), stray: edKey(t, "ed-1", 9), db: db,
	}
	h.rsa = clientKey{kid: "rsa-1", priv: rsaKey(), pub: &rsaKey().PublicKey}
	must(t, put(ctx, h.dir, directory.Institution{Code: "PENSION-FUND", Name: "Pension fund", Sector: "pensions", Kind: "fund"}))
	apps := []directory.Application{
		{ID: "app-secret", Institution: "PENSION-FUND", Name: "Secret app", Status: directory.StatusActive,
			AuthMethods: []string{directory.AuthClientSecret}, Keys: []json.RawMessage{edKey(t, "ed-s", 2).jwk(t)}},
		{ID: "app-jwt", Institution: "PENSION-FUND", Name: "JWT app", Status: directory.StatusActive,
			AuthMethods: []string{directory.AuthPrivateKeyJWT}, Keys: []json.RawMessage{h.ed.jwk(t), h.rsa.jwk(t)}},
		{ID: "app-suspended", Institution: "PENSION-FUND", Name: "Suspended app", Status: directory.StatusSuspended,
			AuthMethods: []string{directory.AuthClientSecret}},
	}
	for _, a := range apps {
		must(t, put(ctx, h.dir, a))
		s, err := h.dir.IssueClientSecret(ctx, "test", a.ID)
		must(t, err)
		h.secrets[a.ID] = s
	}
	h.keys = NewKeySet(clk.Now)
	h.keys.Rand = mrand.NewChaCha8([32]byte{1})
	_, err = h.keys.Generate()
	must(t, err)
	h.srv, err = NewServer(Config{Issuer: issuer, Directory: h.dir, Keys: h.keys, Now: clk.Now,
		Rand: mrand.NewChaCha8([32]byte{2})})
	must(t, err)
	return h
}

func put[T directory.Entity, P directory.EntityPtr[T]](ctx context.Context, d *directory.Directory, v T) error {
	_, _, err := directory.Put[T, P](ctx, d, "test", v, directory.AnyVersion)
	return err
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// setStatus changes an application's status in the directory.
func (h *hub) setStatus(t testing.TB, id, status string) {
	ctx := context.Background()
	app, _, err := directory.Get[directory.Application](ctx, h.dir, id)
	must(t, err)
	app.Status = status
	must(t, put(ctx, h.dir, app))
}

// claims are the claims of a good assertion from app-jwt, with a fresh jti.
func (h *hub) claims() map[string]any {
	h.jtis++
	now := h.clock.Now()
	return map[string]any{
		"iss": "app-jwt", "sub": "app-jwt", "aud": issuer + TokenPath,
		"iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(), "jti": "jti-" + itoa(h.jtis),
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// sign makes an assertion with claims signed by k with alg.
func sign(t testing.TB, k clientKey, alg jose.SignatureAlgorithm, claims map[string]any) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	must(t, err)
	s, err := jwt.Signed(sig).Claims(claims).Serialize()
	must(t, err)
	return s
}

// unsigned makes a JWS with header h and no real signature (alg none, or a fake).
func unsigned(t testing.TB, header, claims map[string]any, sig []byte) string {
	hb, err := json.Marshal(header)
	must(t, err)
	cb, err := json.Marshal(claims)
	must(t, err)
	e := base64.RawURLEncoding
	return e.EncodeToString(hb) + "." + e.EncodeToString(cb) + "." + e.EncodeToString(sig)
}

func assertionForm(a string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {AssertionType}, "client_assertion": {a}}
}

// faultOf returns the fault in err, or nil.
func faultOf(err error) *fault.Error {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}
