// Package perm keeps the hub's files to the user it runs as. The stores hold the civil
// register and the audit log, the keys sign tokens and checkpoints: another user of the
// machine must not read them, whatever the umask the hub was started with and whatever
// an older version left behind. Every file the hub keeps is mode 0600, every folder it
// makes 0700: Restrict sets the umask so that what the hub and its libraries (the SQLite
// driver, nats-server) create is so, Tighten fixes what exists, and Exposed tells when
// the folder the hub was given is open to others, which the hub warns of and leaves to
// its owner.
package perm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The modes of the hub's files and folders.
const (
	File fs.FileMode = 0o600
	Dir  fs.FileMode = 0o700
)

// MkdirAll creates dir and the parents it lacks, each mode Dir whatever the umask.
// Folders that exist are left as they are: a parent may be shared (/var/lib, a home).
func MkdirAll(dir string) error {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
		missing = append(missing, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	if err := os.MkdirAll(dir, Dir); err != nil {
		return err
	}
	for _, d := range missing {
		if err := os.Chmod(d, Dir); err != nil {
			return err
		}
	}
	return nil
}

// OpenFile opens path with flag (os.O_CREATE to create it) and makes it mode File, so
// that a file an older version left readable is not written to as it was.
func OpenFile(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag, File)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err == nil && !is(info, File) {
		err = f.Chmod(File)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("make %s private: %w", path, err)
	}
	return f, nil
}

// WriteFile writes data to path, created or truncated, mode File.
func WriteFile(path string, data []byte) error {
	f, err := OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Replace replaces the file path with data, mode File, so that a crash leaves the old
// content or the new one, never a part: a new file written and synced beside it, renamed
// over it, and the folder synced. The new file's name is its own, so that two processes
// replacing one file (replicas of the hub sharing a folder) do not rename each other's.
func Replace(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".new-*") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err = f.Chmod(File); err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// Tighten makes each path that exists the owner's only: a file mode File, a folder and
// everything in it File and Dir. A path itself may be a symbolic link (a store placed
// elsewhere); inside a folder, links are left alone, not followed. Missing paths are
// skipped.
func Tighten(paths ...string) error {
	for _, p := range paths {
		info, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if !info.IsDir() {
			err = chmod(p, info, File)
		} else {
			err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.Type()&fs.ModeSymlink != 0 {
					return err
				}
				info, err := d.Info()
				if err != nil {
					return err
				}
				return chmod(path, info, modeOf(d))
			})
		}
		if err != nil {
			return fmt.Errorf("make %s private: %w", p, err)
		}
	}
	return nil
}

func modeOf(d fs.DirEntry) fs.FileMode {
	if d.IsDir() {
		return Dir
	}
	return File
}

// chmod changes the mode of path only when it differs: a hub whose files are right need
// not own them to start (the CLI reading a store as another user).
func chmod(path string, info fs.FileInfo, want fs.FileMode) error {
	if is(info, want) {
		return nil
	}
	return os.Chmod(path, want)
}

// is reports whether info's permission bits, setuid, setgid and sticky included, are want.
func is(info fs.FileInfo, want fs.FileMode) bool {
	return info.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) == want
}
