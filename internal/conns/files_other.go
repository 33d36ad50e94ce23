//go:build !unix

package conns

// RaiseFileLimit does nothing where there is no file limit to raise (Windows); it
// returns 0: unknown.
func RaiseFileLimit() (uint64, error) { return 0, nil }
