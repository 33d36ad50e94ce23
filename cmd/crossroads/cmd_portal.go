package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/bench"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/portal"
)

// PortalFlags configure the citizen and professional portal of `serve` (#20).
type PortalFlags struct {
	OIDCIssuer   string `name:"oidc-issuer" help:"The national e-ID provider (OpenID Connect issuer URL) citizens log in to the portal with." env:"CROSSROADS_OIDC_ISSUER"`
	OIDCClientID string `name:"oidc-client-id" help:"The portal's client id at the e-ID provider." env:"CROSSROADS_OIDC_CLIENT_ID"`
	OIDCKey      string `name:"oidc-key" help:"File of the portal's private JWK (Ed25519 or P-256) for private_key_jwt at the e-ID provider." env:"CROSSROADS_OIDC_KEY" type:"path"`
	DevIdP       bool   `name:"dev-idp" help:"DEVELOPMENT only: serve an identity provider at /devidp/ that logs anyone in as any person, and use it for the portal." env:"CROSSROADS_DEV_IDP"`
}

func (f PortalFlags) apply(cfg *hub.Config) {
	cfg.Portal = hub.PortalConfig{OIDCIssuer: f.OIDCIssuer, OIDCClientID: f.OIDCClientID, OIDCKeyFile: f.OIDCKey, DevIdP: f.DevIdP}
}

// CredentialCmd checks the portal's status credentials.
type CredentialCmd struct {
	Verify CredentialVerifyCmd `cmd:"" help:"Check a status credential (the JWT of a portal proof's QR code) offline, with the hub's published keys."`
}

// CredentialVerifyCmd verifies a credential against a JWKS file or a hub's /.well-known/jwks.json.
type CredentialVerifyCmd struct {
	Credential string `arg:"" help:"The credential (a JWT), or - to read it from standard input."`
	JWKS       string `name:"jwks" help:"The hub's keys: a JWKS file, or the hub's URL (its /.well-known/jwks.json is fetched once)." required:""`
	Issuer     string `help:"The hub's public URL the credential must be issued by (default: the --jwks URL when it is one; none for a file)."`
}

func (c *CredentialVerifyCmd) Run(e *env) error {
	token := c.Credential
	if token == "-" {
		b, err := io.ReadAll(io.LimitReader(e.stdin, portal.MaxCredential+1))
		if err != nil {
			return err
		}
		token = string(b)
	}
	jwks, issuer, err := loadJWKS(e.ctx, c.JWKS)
	if err != nil {
		return err
	}
	if c.Issuer != "" {
		issuer = strings.TrimSuffix(c.Issuer, "/")
	}
	cred, err := portal.VerifyCredential(token, jwks, issuer, time.Now())
	if err != nil {
		return fmt.Errorf("credential NOT valid: %w", err)
	}
	fmt.Fprintf(e.stdout, "credential valid: %s holds %s (read on %s), issued by %s, valid until %s\n", cred.VC.Subject.Name,
		cred.VC.Subject.Status, cred.VC.Subject.Day, cred.Issuer, time.Unix(cred.Expires, 0).UTC().Format(time.RFC3339))
	return nil
}

// loadJWKS reads a JWKS file, or fetches a hub's; the issuer is the hub's URL then.
func loadJWKS(ctx context.Context, from string) (jose.JSONWebKeySet, string, error) {
	var set jose.JSONWebKeySet
	if !strings.HasPrefix(from, "http://") && !strings.HasPrefix(from, "https://") {
		b, err := os.ReadFile(from)
		if err != nil {
			return set, "", err
		}
		if err := json.Unmarshal(b, &set); err != nil {
			return set, "", fmt.Errorf("%s: not a JWKS: %v", from, err)
		}
		return set, "", nil
	}
	base := strings.TrimSuffix(strings.TrimSuffix(from, "/.well-known/jwks.json"), "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/.well-known/jwks.json", nil)
	if err != nil {
		return set, "", err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return set, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return set, "", fmt.Errorf("%s/.well-known/jwks.json: %s", base, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return set, "", fmt.Errorf("%s/.well-known/jwks.json: not a JWKS: %v", base, err)
	}
	return set, base, nil
}

// BenchPortalCmd measures the portal (#20).
type BenchPortalCmd struct {
	Data     string        `help:"A demo data folder to use; empty: generate a nation in a temporary folder."`
	Persons  int           `help:"Persons of the generated nation (without --data)." default:"100000"`
	Rate     int           `help:"Pages asked a second, at a steady pace." default:"200"`
	Duration time.Duration `help:"How long to load the portal." default:"10s"`
	Citizens int           `help:"Citizens logged in, asking in turn." default:"50"`
}

func (c *BenchPortalCmd) Run(e *env, b *BenchCmd) error {
	return b.onNation(e, c.Data, c.Persons, func(dir string) (*bench.Result, error) {
		return bench.Portal(e.ctx, bench.PortalOptions{Data: dir, Rate: c.Rate, Duration: c.Duration, Citizens: c.Citizens})
	})
}
