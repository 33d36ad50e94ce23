package main

import (
	"fmt"
	"os"
	"time"

	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/oauth"
)

// KeysCmd manages the hub's signing keys.
type KeysCmd struct {
	Keys   string        `help:"The hub's key file." default:"./crossroads-data/hub-keys.json" env:"CROSSROADS_KEY_FILE"`
	Rotate KeysRotateCmd `cmd:"" help:"Make a new current key; the old one keeps verifying until its tokens have expired. Restart the hub to use it."`
	List   KeysListCmd   `cmd:"" help:"List the keys: id, created, retires."`
}

// KeysRotateCmd rotates the key.
type KeysRotateCmd struct {
	RetireAfter time.Duration `help:"How long the previous key keeps verifying (at least the token lifetime)." default:"15m"`
}

func (c *KeysRotateCmd) Run(e *env, k *KeysCmd) error {
	ks, err := readKeys(k.Keys)
	if err != nil {
		return err
	}
	if c.RetireAfter < 5*time.Minute {
		return fmt.Errorf("--retire-after must be at least the access-token lifetime, 5m")
	}
	kid, err := ks.Rotate(c.RetireAfter)
	if err != nil {
		return err
	}
	if err := hub.SaveKeys(k.Keys, ks); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "new current key %s; restart the hub to sign with it\n", kid)
	return nil
}

// KeysListCmd lists keys.
type KeysListCmd struct{}

func (c *KeysListCmd) Run(e *env, k *KeysCmd) error {
	ks, err := readKeys(k.Keys)
	if err != nil {
		return err
	}
	for _, info := range ks.Keys() {
		retires := "current"
		if !info.Retires.IsZero() {
			retires = "retires " + info.Retires.Format(time.RFC3339)
		}
		fmt.Fprintf(e.stdout, "%s  created %s  %s\n", info.ID, info.Created.Format(time.RFC3339), retires)
	}
	return nil
}

func readKeys(path string) (*oauth.KeySet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return oauth.LoadKeySet(b, time.Now)
}
