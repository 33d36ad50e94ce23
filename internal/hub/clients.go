package hub

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/perm"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// DemoClient is the credential of a demo application, for trying the exchange with curl.
type DemoClient struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Institution  string `json:"institution"`
	About        string `json:"about"`
	// ExamplePerson is a person the institution has a file on today (empty for none).
	ExamplePerson string `json:"example_person,omitempty"`
	// SigningKey is the private Ed25519 key (a JWK, with its kid) whose public half is
	// registered for the application, with the signature policy optional: messages
	// signed with it are checked (crossroads sign), unsigned ones still accepted.
	SigningKey json.RawMessage `json:"signing_key,omitempty"`
}

// demoKeyID is the key id of every demo application's signing key.
const demoKeyID = "demo"

// demoApps are the applications whose credentials the demo writes, from broad to none.
var demoApps = []struct{ institution, about string }{
	{synth.PensionFund, "broad: identity, death, address and family of pensioners (capacity 001)"},
	{synth.HealthInsurer1, "identity, death and address of its members (capacity 000)"},
	{synth.CityPrefix + "R01", "narrow: names and address of residents of region R01 (capacity 000)"},
	{synth.Museum, "none: no authorization, every question is refused"},
	{synth.SocialRegistry, "grants the social energy tariff, the transport reduction and free waste collection: reports the benefits it granted (portal /portal/pro, or POST /benefits)"},
}

// ensureDemoClients writes <data>/demo-clients.json with fresh client secrets, once.
func ensureDemoClients(ctx context.Context, data string, d *directory.Directory) error {
	path := filepath.Join(data, "demo-clients.json")
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var out []DemoClient
	for _, a := range demoApps {
		id := synth.AppID(a.institution)
		secret, err := d.IssueClientSecret(ctx, "demo", id)
		if err != nil {
			return err
		}
		c := DemoClient{ClientID: id, ClientSecret: secret, Institution: a.institution, About: a.about}
		if c.SigningKey, err = registerDemoKey(ctx, d, id); err != nil {
			return err
		}
		files, err := d.Store().Integrations(ctx, directory.IntegrationQuery{Institution: a.institution, Day: d.Today(), Limit: 1})
		if err != nil {
			return err
		}
		if len(files) > 0 {
			c.ExamplePerson = files[0].Person
		}
		out = append(out, c)
	}
	b, err := json.MarshalIndent(map[string]any{"token_path": "/oauth2/client/token", "clients": out}, "", "  ")
	if err != nil {
		return err
	}
	return perm.WriteFile(path, b)
}

// registerDemoKey makes an Ed25519 key for application id, registers its public half
// with the signature policy optional (so that a new user sees signatures checked without
// having to sign everything), and returns the private key as a JWK.
func registerDemoKey(ctx context.Context, d *directory.Directory, id string) (json.RawMessage, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	public, err := jose.JSONWebKey{Key: pub, KeyID: demoKeyID, Algorithm: "EdDSA", Use: "sig"}.MarshalJSON()
	if err != nil {
		return nil, err
	}
	private, err := jose.JSONWebKey{Key: priv, KeyID: demoKeyID, Algorithm: "EdDSA", Use: "sig"}.MarshalJSON()
	if err != nil {
		return nil, err
	}
	app, _, err := directory.Get[directory.Application](ctx, d, id)
	if err != nil {
		return nil, err
	}
	app.Keys, app.Signatures = []json.RawMessage{public}, directory.SignaturesOptional
	if _, _, err := directory.Put(ctx, d, "demo", app, directory.AnyVersion); err != nil {
		return nil, err
	}
	return private, nil
}
