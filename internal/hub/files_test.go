//go:build unix

package hub_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/hub"
)

func TestOpenWarnsOfAnExposedFolder(t *testing.T) {
	tests := []struct {
		mode os.FileMode
		want string // in the log and on Out; "" no warning
	}{
		{0o700, ""},
		{0o711, ""},
		{0o755, "is readable by other users"},
		{0o733, "is writable by other users"},
		{0o777, "is readable and writable by other users"},
	}
	for _, tt := range tests {
		dir := filepath.Join(t.TempDir(), "data")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, tt.mode); err != nil {
			t.Fatal(err)
		}
		var logs, out bytes.Buffer
		st, err := hub.Open(context.Background(), hub.Config{Store: "sqlite:" + filepath.Join(dir, "hub.db"),
			Civil: "sqlite:" + filepath.Join(dir, "civil.db"), Log: slog.New(slog.NewTextHandler(&logs, nil)), Out: &out})
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		for name, got := range map[string]string{"log": logs.String(), "output": out.String()} {
			switch {
			case tt.want == "" && strings.Contains(got, "other users"):
				t.Errorf("folder %04o: the %s warns: %s", tt.mode, name, got)
			case tt.want != "" && (!strings.Contains(got, tt.want) || !strings.Contains(got, dir)):
				t.Errorf("folder %04o: the %s says %q; want %q about %s", tt.mode, name, got, tt.want, dir)
			}
		}
	}
}

// A key file and verifiers file an older version left readable are made the owner's
// only when the keys are rotated, and a new key file is, under a permissive umask.
func TestKeyFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "keys", "hub-keys.json")
	ks, err := hub.SaveKeysFresh(path)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for _, p := range []string{path, hub.VerifiersFile(path)} {
			if info, err := os.Stat(p); err != nil {
				t.Fatal(err)
			} else if got := info.Mode().Perm(); got != 0o600 {
				t.Errorf("%s: %s is %04o; want 0600", when, p, got)
			}
		}
	}
	check("new")
	os.Chmod(path, 0o644)
	os.Chmod(hub.VerifiersFile(path), 0o644)
	syscall.Umask(0o022)
	if _, err := ks.Rotate(0); err != nil {
		t.Fatal(err)
	}
	if err := hub.SaveKeys(path, ks); err != nil {
		t.Fatal(err)
	}
	check("rotated")
}
