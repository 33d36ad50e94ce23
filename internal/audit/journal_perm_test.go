//go:build unix

package audit

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The journal holds exchanges about persons: under a permissive umask, and over a
// folder an older version left readable, its folder and files are the owner's only.
func TestJournalIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "hub.db-audit")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	left := filepath.Join(dir, "00000000000000000001.seg")
	if err := os.WriteFile(left, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	j, err := openJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	at := func(int) ([]byte, []string) { return []byte(`{}`), []string{"p"} }
	if err := j.write(1, 1, at); err != nil {
		t.Fatal(err)
	}
	paths := []string{dir, left, filepath.Join(dir, "lock"), j.segs[len(j.segs)-1].path}
	for i, p := range paths {
		want := os.FileMode(0o600)
		if i == 0 {
			want = 0o700
		}
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o; want %04o", p, got, want)
		}
	}
}
