package hub

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/crossroads-hub/crossroads/internal/oauth"
)

// loadKeys reads the hub's signing keys from path, or makes a first key and saves it
// (mode 0600). With no path the keys live in memory only: tokens and checkpoints then
// cannot be verified after a restart, which suits tests and nothing else.
func loadKeys(path string) (*oauth.KeySet, error) {
	if path == "" {
		ks := oauth.NewKeySet(time.Now)
		_, err := ks.Generate()
		return ks, err
	}
	b, err := os.ReadFile(path)
	if err == nil {
		ks, err := oauth.LoadKeySet(b, time.Now)
		if err != nil {
			return nil, fmt.Errorf("the hub keys in %s: %w", path, err)
		}
		return ks, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	ks := oauth.NewKeySet(time.Now)
	if _, err := ks.Generate(); err != nil {
		return nil, err
	}
	b, err = ks.MarshalPrivate()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return ks, os.WriteFile(path, b, 0o600)
}
