//go:build !unix

package perm

import "io/fs"

// Restrict does nothing where there is no umask: on Windows a file's access follows its
// folder's ACL, which the operator sets.
func Restrict() {}

// Exposed reports nothing where modes do not say who may read a folder.
func Exposed(dir string) (string, fs.FileMode, error) { return "", 0, nil }

// SyncDir does nothing where a folder cannot be opened to be synced (Windows, where a
// rename is written through).
func SyncDir(string) error { return nil }
