//go:build !unix

package audit

import "os"

// lockFile does nothing where flock is missing: one hub a data folder is then the
// operator's care.
func lockFile(*os.File) error { return nil }

// syncDir does nothing where a folder cannot be opened to be synced (Windows, where a
// rename is written through).
func syncDir(string) error { return nil }
