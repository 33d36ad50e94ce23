package portal_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/devidp"
	"github.com/crossroads-hub/crossroads/internal/hub"
)

// names is the external provider's population: everyone is known.
type names struct{}

func (n names) Name(ctx context.Context, p string) (string, bool, error) {
	return "External Person", true, nil
}
func (n names) Sample(ctx context.Context, k int) ([]devidp.Person, error) {
	return nil, nil
}

// An e-ID provider of its own (another server), the portal configured as `serve
// --oidc-issuer --oidc-client-id --oidc-key` would: its client key a P-256 JWK in a file
// (ES256 client assertions), the development provider off.
func TestExternalIssuer(t *testing.T) {
	t.Parallel()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key := jose.JSONWebKey{Key: priv, KeyID: "portal-es256", Algorithm: string(jose.ES256)}
	b, _ := json.Marshal(key)
	keyFile := filepath.Join(t.TempDir(), "portal-key.json")
	if err := os.WriteFile(keyFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var idp atomic.Pointer[devidp.IdP]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := idp.Load(); h != nil {
			h.ServeHTTP(w, r)
			return
		}
		http.Error(w, "not yet", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	var tg *target
	tg = startWith(t, func(c *hub.Config) {
		c.Portal = hub.PortalConfig{OIDCIssuer: srv.URL + "/devidp", OIDCClientID: "national-portal", OIDCKeyFile: keyFile}
	})
	p, err := devidp.New(devidp.Config{Issuer: srv.URL + "/devidp", Persons: names{},
		Clients: []devidp.Client{{ID: "national-portal", RedirectURIs: []string{tg.url + "/portal/login/callback"}, Key: key.Public()}}})
	if err != nil {
		t.Fatal(err)
	}
	idp.Store(p)
	resp, err := http.Get(tg.url + "/devidp/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the development provider answers on the hub without --dev-idp: %d", resp.StatusCode)
	}
	b2 := tg.browser(t)
	b2.login(tg.persons(t, 1, false)[0])
	if _, page := b2.get("/portal/"); !strings.Contains(page, "External Person") || strings.Contains(page, "DEVELOPMENT") {
		t.Errorf("logged in through the external provider: %.400s", page)
	}
}
