//go:build unix

package attack_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// Issue #13: a data folder another user can read. The hub runs under a permissive umask
// in a folder made 0755 before it: the files it creates, and those an older version left
// readable by all, must be its user's only, and it must say that the folder itself is
// open to others.
func TestFilesAreTheOwnersOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := config(dir)
	ctx := context.Background()

	// A first run: stores with a nation, the audit journal, the keys, the event bus.
	tg := startIn(t, cfg)
	if _, err := synth.Generate(ctx, synth.Config{Seed: 13, Persons: 300, Today: today()}, tg.st.Civil.Population(), tg.st.Directory); err != nil {
		t.Fatal(err)
	}
	onlyOwner(t, dir) // running: the SQLite -wal and -shm files are there
	tg.stop(t)
	onlyOwner(t, dir)

	// What an older version left: the same, readable by everyone.
	opened(t, dir, 0o644, 0o755)
	syscall.Umask(0o022)

	var logs bytes.Buffer
	cfg.Log = slog.New(slog.NewTextHandler(&logs, nil))
	tg = startIn(t, cfg)
	status, _, body := tg.dci(t, tg.token(t, synth.HealthInsurer1), search{criteria: byID("PN", synth.FixtureNumber)})
	if status != 200 || !strings.Contains(string(body), synth.FixtureNumber) {
		t.Fatalf("look-up by the insurer: %d %s", status, clip(body))
	}
	onlyOwner(t, dir)
	tg.stop(t)

	onlyOwner(t, dir)
	if !strings.Contains(logs.String(), "readable by other users") || !strings.Contains(logs.String(), dir) {
		t.Errorf("no warning that %s is readable by others in the log:\n%s", dir, logs.String())
	}
}

// onlyOwner checks that every file under dir is mode 0600 and every folder 0700, but dir
// itself, which the test made 0755.
func onlyOwner(t *testing.T, dir string) {
	t.Helper()
	var n int
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // gone meanwhile
		}
		if err != nil {
			return err
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // a temporary file the running bus replaced meanwhile
		}
		if err != nil {
			return err
		}
		n++
		want := fs.FileMode(0o600)
		switch {
		case path == dir:
			want = 0o755 // the user's own folder: the hub says so, and leaves it
		case d.IsDir():
			want = 0o700
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o; want %04o", path, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 8 {
		t.Errorf("walked %d entries of %s; want the stores, their journals, the keys and the bus", n, dir)
	}
}

// opened gives every file under dir mode file and every folder (dir too) mode folder, as
// a version that did not care left them.
func opened(t *testing.T, dir string, file, folder fs.FileMode) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(path, folder)
		}
		return os.Chmod(path, file)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// startIn starts a hub on cfg's stores (opened, and migrated, here); it stops at the end
// of the test if not before.
func startIn(t *testing.T, cfg hub.Config) *ownHub {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := hub.Open(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	cfg.OnReady = func(u string) { urls <- u }
	admin := make(chan string, 1)
	cfg.OnAdminToken = func(tok string) error { admin <- tok; return nil }
	done := make(chan error, 1)
	go func() { done <- hub.Serve(ctx, cfg, st) }()
	h := &ownHub{target: &target{st: st}}
	select {
	case h.url = <-urls:
	case err := <-done:
		cancel()
		st.Close()
		t.Fatal(err)
	}
	select {
	case h.admin = <-admin:
	default:
	}
	h.stopped = func() error {
		cancel()
		err := <-done
		st.Close()
		return err
	}
	t.Cleanup(func() { h.stop(t) })
	return h
}

type ownHub struct {
	*target
	stopped func() error // nil once called
}

func (h *ownHub) stop(t *testing.T) {
	t.Helper()
	if h.stopped == nil {
		return
	}
	err := h.stopped()
	h.stopped = nil
	if err != nil {
		t.Errorf("Serve: %v", err)
	}
}
