//go:build !unix

package audit

import "os"

// lockFile does nothing where flock is missing: one hub a data folder is then the
// operator's care.
func lockFile(*os.File) error { return nil }

// waitLockFile does nothing where flock is missing: replicas sharing a folder are then
// the operator's care.
func waitLockFile(*os.File) error { return nil }
