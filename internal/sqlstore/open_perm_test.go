//go:build unix

package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// A store holds the civil register: the database file, its WAL and shared-memory files,
// and the folder made for it are the owner's only, under a permissive umask and over
// files an older version left readable.
func TestSQLiteFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "civil.db")
	files := []string{path, path + "-wal", path + "-shm"}
	open := func() {
		db, err := sqlstore.Open(context.Background(), "sqlite:"+path, sqlstore.Civil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
	}
	check := func(when string, folder os.FileMode) {
		t.Helper()
		for _, p := range append(files, dir) {
			want := os.FileMode(0o600)
			if p == dir {
				want = folder
			}
			if info, err := os.Stat(p); err != nil {
				t.Errorf("%s: %v", when, err)
			} else if got := info.Mode().Perm(); got != want {
				t.Errorf("%s: %s is %04o; want %04o", when, p, got, want)
			}
		}
	}
	open()
	check("created", 0o700)

	// An older version's files, still open (the -wal and -shm files are there): a
	// second opening makes them private, and leaves the folder, which existed.
	for _, p := range files {
		os.Chmod(p, 0o644)
	}
	os.Chmod(dir, 0o755)
	open()
	check("left readable", 0o755)
}
