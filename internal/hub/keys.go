package hub

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/perm"
)

// loadKeys reads the hub's signing keys from path, or makes a first key and saves it
// (mode 0600; a key file or verifiers file an older version left readable is made so).
// With no path the keys live in memory only: tokens and checkpoints then cannot be
// verified after a restart, which suits tests and nothing else.
func loadKeys(path string) (*oauth.KeySet, error) {
	if path == "" {
		ks := oauth.NewKeySet(time.Now)
		_, err := ks.Generate()
		return ks, err
	}
	if err := perm.Tighten(path, VerifiersFile(path)); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err == nil {
		ks, err := oauth.LoadKeySet(b, time.Now)
		if err != nil {
			return nil, fmt.Errorf("the hub keys in %s: %w", path, err)
		}
		return ks, RecordVerifiers(path, ks)
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
	if err := perm.MkdirAll(filepath.Dir(path)); err != nil {
		return nil, err
	}
	if err := perm.WriteFile(path, b); err != nil {
		return nil, err
	}
	return ks, RecordVerifiers(path, ks)
}

// SaveKeys writes a key set to its file (mode 0600) and records its verifier keys.
func SaveKeys(path string, ks *oauth.KeySet) error {
	b, err := ks.MarshalPrivate()
	if err != nil {
		return err
	}
	if err := perm.WriteFile(path, b); err != nil {
		return err
	}
	return RecordVerifiers(path, ks)
}

// VerifiersFile is where the audit verifier keys of every key the hub ever had are kept,
// one a line (public, yet mode 0600 like every file of the hub): retired keys leave the
// key file, but the checkpoints they signed must stay verifiable.
func VerifiersFile(keyFile string) string { return keyFile + ".verifiers" }

// RecordVerifiers adds the verifier keys of ks that the verifiers file lacks.
func RecordVerifiers(keyFile string, ks *oauth.KeySet) error {
	have, err := ReadVerifiers(keyFile)
	if err != nil {
		return err
	}
	var add []string
	for _, k := range ks.Keys() {
		v, err := audit.VerifierKey(AuditKeyName, k.Public)
		if err != nil {
			return err
		}
		if !slices.Contains(have, v) {
			add = append(add, v)
		}
	}
	if len(add) == 0 {
		return nil
	}
	f, err := perm.OpenFile(VerifiersFile(keyFile), os.O_APPEND|os.O_CREATE|os.O_WRONLY)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(strings.Join(add, "\n") + "\n")
	return err
}

// ReadVerifiers returns the recorded verifier keys (none if the file does not exist).
func ReadVerifiers(keyFile string) ([]string, error) {
	b, err := os.ReadFile(VerifiersFile(keyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(b)), nil
}

// SaveKeysFresh makes a key file with one new key (for tests and first installs).
func SaveKeysFresh(path string) (*oauth.KeySet, error) { return loadKeys(path) }
