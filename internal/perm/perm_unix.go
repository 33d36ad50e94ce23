//go:build unix

package perm

import (
	"io/fs"
	"os"
	"syscall"
)

// Restrict sets the process's umask to 077, so that every file and folder created from
// now on, by the hub or by a library that chooses its own modes, is its owner's only.
// The umask is the process's: call it where the process starts (the hub's Open, the
// CLI's main).
func Restrict() { syscall.Umask(0o077) }

// Exposed says how users other than dir's owner may use it ("readable", "writable",
// "readable and writable"), or "" when they cannot list or change it. Passing through
// (x alone) is not exposure: the files inside are the owner's only.
func Exposed(dir string) (string, fs.FileMode, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return "", 0, err
	}
	m := info.Mode().Perm()
	switch r, w := m&0o044 != 0, m&0o022 != 0; {
	case r && w:
		return "readable and writable", m, nil
	case r:
		return "readable", m, nil
	case w:
		return "writable", m, nil
	}
	return "", m, nil
}

// SyncDir flushes a folder's entries (a file created or renamed in it) to the disk.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
