package hub_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// TestDemoClientsSign: the demo's applications ship with a registered key and the
// policy optional, and demo-clients.json holds each one's private key (a JWK), so that a
// new user sees signatures work: a message signed with it is answered, the same message
// altered after signing is refused.
func TestDemoClientsSign(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := config(dir)
	st, err := hub.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(ctx, synth.Config{Seed: 3, Persons: 400, Today: date.FromTime(time.Now())}, st.Civil.Population(), st.Directory); err != nil {
		t.Fatal(err)
	}
	if err := hub.EnsureDemoClients(ctx, dir, st.Directory); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "demo-clients.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Clients []hub.DemoClient `json:"clients"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	for _, c := range file.Clients {
		app, _, err := directory.Get[directory.Application](ctx, st.Directory, c.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(c.SigningKey); err != nil || key.IsPublic() || key.KeyID == "" {
			t.Fatalf("%s: signing_key %s: %v; want a private JWK with a kid", c.ClientID, c.SigningKey, err)
		}
		if app.Signatures != directory.SignaturesOptional || len(app.Keys) != 1 {
			t.Errorf("%s: signatures %q with %d keys; want optional with its demo key", c.ClientID, app.Signatures, len(app.Keys))
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	urls := make(chan string, 1)
	cfg.OnReady = func(u string) { urls <- u }
	cfg.OnAdminToken = func(string) error { return nil }
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = hub.Serve(ctx, cfg, st) }()
	t.Cleanup(func() { cancel(); wg.Wait(); st.Close() })
	base := <-urls

	c := file.Clients[0] // the pension fund's, with an example person
	var key jose.JSONWebKey
	_ = key.UnmarshalJSON(c.SigningKey)
	tok := tokenFor(t, base, c.ClientID, c.ClientSecret)
	header, message := signedParts(c.ExamplePerson)
	sig, err := dci.SignEd25519(header, message, "test", key.KeyID, key.Key.(ed25519.PrivateKey), time.Now().Add(-time.Second), time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, message string
		status        int
	}{
		{"signed with the demo key", string(message), http.StatusOK},
		{"altered after signing", strings.Replace(string(message), `"r-1"`, `"r-2"`, 1), http.StatusUnauthorized},
	} {
		status, body := post(t, base+"/dci/crvs/registry/sync/search", tok, fmt.Sprintf(`{"signature":%q,"header":%s,"message":%s}`, sig, header, tt.message))
		if status != tt.status {
			t.Errorf("%s: %d %s; want %d", tt.name, status, body, tt.status)
		}
	}
}
