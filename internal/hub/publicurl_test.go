package hub_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// TestPublicURL: behind a proxy the hub names itself by its public URL (the issuer of its
// tokens, which it then accepts), and refuses a public URL that is not one.
func TestPublicURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, bad := range []string{"ftp://hub.example.org", "hub.example.org", "https://hub.example.org/?x=1", "https://user@hub.example.org"} {
		cfg := config(testNation(t))
		cfg.PublicURL = bad
		st, err := hub.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		err = hub.Serve(ctx, cfg, st)
		st.Close()
		if err == nil || !strings.Contains(err.Error(), "--public-url") {
			t.Errorf("--public-url %q: %v; want an error naming the flag", bad, err)
		}
	}
	r := startHubWith(t, func(c *hub.Config) { c.PublicURL = "https://hub.example.org/" })
	tok := r.token(t, synth.HealthInsurer1)
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Issuer string `json:"iss"`
	}
	if len(parts) != 3 || json.Unmarshal(payload, &claims) != nil || claims.Issuer != "https://hub.example.org" {
		t.Fatalf("token issuer %q (%s); want the public URL", claims.Issuer, payload)
	}
	member := fileHolder(t, r, synth.HealthInsurer1, "", 0, nil)
	if status, body := r.search(t, tok, "PN", member, ""); status != 200 || !strings.Contains(string(body), member) {
		t.Errorf("a search with a token of the public issuer: %d %s", status, body)
	}
}
