package hub

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

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
}

// demoApps are the applications whose credentials the demo writes, from broad to none.
var demoApps = []struct{ institution, about string }{
	{synth.PensionFund, "broad: identity, death, address and family of pensioners (capacity 001)"},
	{synth.HealthInsurer1, "identity, death and address of its members (capacity 000)"},
	{synth.CityPrefix + "R01", "narrow: names and address of residents of region R01 (capacity 000)"},
	{synth.Museum, "none: no authorization, every question is refused"},
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
