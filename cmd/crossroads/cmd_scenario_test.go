//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// The scenario refuses, with an exit status that says so and before anything is
// written, a person the civil register does not hold, and a folder a running hub
// holds (outsider findings: a file opened and exit 0; no word of the demo).
func TestScenarioRefuses(t *testing.T) {
	if testing.Short() {
		t.Skip("makes a nation")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	unknown, err := ident.MakePerson(1901, 1, 1, 997, ident.Register)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = cli(t, "", "--log-level", "warn", "scenario", "old-age-allowance", "--data", data, "--persons", "300", "--person", unknown.String())
	if err == nil || !strings.Contains(err.Error(), "not a person of the civil register") {
		t.Fatalf("an unknown person: %v; want refused", err)
	}
	if _, err := os.Stat(hub.ProgrammeStore("sqlite:" + filepath.Join(data, "hub.db"))[len("sqlite:"):]); err == nil {
		t.Errorf("the programme's store was opened for an unknown person")
	}
	// A running hub holds the audit journal's lock.
	jdir := hub.AuditJournal("sqlite:" + filepath.Join(data, "hub.db"))
	if err := os.MkdirAll(jdir, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(jdir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Skipf("no flock here: %v", err)
	}
	_, _, err = cli(t, "", "--log-level", "warn", "scenario", "old-age-allowance", "--data", data)
	if err == nil || !strings.Contains(err.Error(), "stop the demo first") {
		t.Errorf("a folder a running hub holds: %v; want told to stop the demo first", err)
	}
}
