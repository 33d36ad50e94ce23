//go:build unix

package perm_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/perm"
)

// permissive sets the umask most systems start with, for the test.
func permissive(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	info, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode() & (fs.ModePerm | fs.ModeSticky | fs.ModeSetgid)
}

func TestMkdirAll(t *testing.T) {
	permissive(t)
	root := t.TempDir()
	shared := filepath.Join(root, "shared")
	if err := os.Mkdir(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := perm.MkdirAll(filepath.Join(shared, "a", "b")); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]fs.FileMode{shared: 0o755, filepath.Join(shared, "a"): 0o700, filepath.Join(shared, "a", "b"): 0o700} {
		if got := mode(t, path); got != want {
			t.Errorf("MkdirAll: %s is %04o; want %04o", path, got, want)
		}
	}
}

func TestWriteFile(t *testing.T) {
	permissive(t)
	dir := t.TempDir()
	old := filepath.Join(dir, "old")
	if err := os.WriteFile(old, []byte("before"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{old, filepath.Join(dir, "new")} {
		if err := perm.WriteFile(path, []byte("secret")); err != nil {
			t.Fatal(err)
		}
		if got := mode(t, path); got != perm.File {
			t.Errorf("WriteFile(%s): mode %04o; want %04o", path, got, perm.File)
		}
		if b, _ := os.ReadFile(path); string(b) != "secret" {
			t.Errorf("WriteFile(%s): holds %q; want %q", path, b, "secret")
		}
	}
}

func TestOpenFileAppends(t *testing.T) {
	permissive(t)
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := perm.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("b\n")
	f.Close()
	if got := mode(t, path); got != perm.File {
		t.Errorf("OpenFile: mode %04o; want %04o", got, perm.File)
	}
	if b, _ := os.ReadFile(path); string(b) != "a\nb\n" {
		t.Errorf("OpenFile: holds %q; want %q", b, "a\nb\n")
	}
}

func TestTighten(t *testing.T) {
	permissive(t)
	root := t.TempDir()
	outside := filepath.Join(root, "outside")
	tree := filepath.Join(root, "tree")
	files := map[string]fs.FileMode{
		outside:                            0o644,
		filepath.Join(tree, "a"):           0o644,
		filepath.Join(tree, "sub", "b"):    0o666,
		filepath.Join(tree, "sub", "c"):    0o600,
		filepath.Join(root, "single"):      0o640,
		filepath.Join(root, "single-link"): 0, // a link to single, below
	}
	if err := os.MkdirAll(filepath.Join(tree, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(tree, "sub"), 0o1777); err != nil {
		t.Fatal(err)
	}
	for path, m := range files {
		if m == 0 {
			continue
		}
		if err := os.WriteFile(path, nil, m); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, m)
	}
	if err := os.Symlink(outside, filepath.Join(tree, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "single"), filepath.Join(root, "single-link")); err != nil {
		t.Fatal(err)
	}
	if err := perm.Tighten(tree, filepath.Join(root, "single-link"), filepath.Join(root, "missing")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want fs.FileMode
	}{
		{tree, 0o700},
		{filepath.Join(tree, "a"), 0o600},
		{filepath.Join(tree, "sub"), 0o700},
		{filepath.Join(tree, "sub", "b"), 0o600},
		{filepath.Join(tree, "sub", "c"), 0o600},
		{outside, 0o644},                       // a link inside a tree is not followed
		{filepath.Join(root, "single"), 0o600}, // a path given is, to the file it names
	}
	for _, tt := range tests {
		if got := mode(t, tt.path); got != tt.want {
			t.Errorf("after Tighten: %s is %04o; want %04o", tt.path, got, tt.want)
		}
	}
}

func TestExposed(t *testing.T) {
	permissive(t)
	tests := []struct {
		mode fs.FileMode
		want string
	}{
		{0o700, ""},
		{0o711, ""},
		{0o750, "readable"},
		{0o755, "readable"},
		{0o703, "writable"},
		{0o770, "readable and writable"},
		{0o777, "readable and writable"},
	}
	for _, tt := range tests {
		dir := filepath.Join(t.TempDir(), "d")
		if err := os.Mkdir(dir, tt.mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, tt.mode)
		if got, m, err := perm.Exposed(dir); err != nil || got != tt.want || m != tt.mode {
			t.Errorf("Exposed(folder %04o) = %q, %04o, %v; want %q", tt.mode, got, m, err, tt.want)
		}
	}
}

func TestRestrict(t *testing.T) {
	permissive(t)
	perm.Restrict()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o777); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, filepath.Join(dir, "f")); got != 0o600 {
		t.Errorf("after Restrict, a file created 0666 is %04o; want 0600", got)
	}
	if got := mode(t, filepath.Join(dir, "d")); got != 0o700 {
		t.Errorf("after Restrict, a folder created 0777 is %04o; want 0700", got)
	}
}

func TestReplace(t *testing.T) {
	permissive(t)
	path := filepath.Join(t.TempDir(), "state")
	for _, content := range []string{"first", "second, longer", "3"} {
		if err := perm.Replace(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != content {
			t.Errorf("after Replace(%q) the file holds %q, %v", content, b, err)
		}
		if m := mode(t, path); m != perm.File {
			t.Errorf("Replace made mode %v; want %v", m, perm.File)
		}
	}
	if left, _ := filepath.Glob(path + ".new*"); len(left) > 0 {
		t.Errorf("Replace left its new files behind: %v", left)
	}
}

// TestReplaceConcurrently replaces one file from many goroutines, as replicas of the hub
// sharing a folder do: none fails, and the file holds one of the contents whole.
func TestReplaceConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "checkpoint")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				if err := perm.Replace(path, []byte(strings.Repeat(strconv.Itoa(i), 10+j))); err != nil {
					t.Errorf("Replace: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 10 || strings.Trim(string(b), string(b[:1])) != "" {
		t.Errorf("the file holds %q, %v; want one content whole", b, err)
	}
}
