package witness_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
	"github.com/crossroads-hub/crossroads/internal/witness"
)

// TestRolledBackStore restores an old backup of the hub's store while a witness has
// cosigned a later checkpoint: the hub refuses to start on it (what it remembered of
// the witness's cosignature names the witness, even with the published checkpoint's
// file gone), and when the whole data folder is restored, the witness raises the alarm.
func TestRolledBackStore(t *testing.T) {
	ctx := context.Background()
	sign, hubKey := audittest.Signer(t, 1)
	data := t.TempDir()
	dbFile := filepath.Join(data, "hub.db")
	published := filepath.Join(data, "hub.db-audit-checkpoint")
	w, err := witness.Open(t.TempDir(), "dpa.example", []string{hubKey})
	if err != nil {
		t.Fatal(err)
	}
	cfg := audit.Config{CheckpointEvery: 3600e9, Published: published, Witnesses: []string{w.VerifierKey()}}
	// run opens the hub's log on its store, appends records lo to hi-1, has the
	// witness cosign the latest checkpoint and the log take it, and closes both.
	run := func(lo, hi int) {
		t.Helper()
		db := openDB(t, dbFile)
		l, err := audit.Open(ctx, db.Audit(), sign, cfg)
		if err != nil {
			t.Fatal(err)
		}
		audittest.Append(t, l, lo, hi, nil)
		cosigned, err := w.Observe(ctx, hubLog{l})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.AddCosignature(ctx, cosigned); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(ctx); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	run(0, 10)
	backup := t.TempDir()
	copyFiles(t, data, backup) // the store, the published checkpoint and the cosigned one at 10
	run(10, 25)

	// After a restart the hub serves what the witness cosigned.
	db := openDB(t, dbFile)
	l, err := audit.Open(ctx, db.Audit(), sign, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cs, _ := l.Cosignatures(ctx); len(cs) != 1 || cs[0].Witness != "dpa.example" || cs[0].Size != 25 {
		t.Errorf("Cosignatures after a restart = %+v; want dpa.example's at 25", cs)
	}
	l.Close(ctx)
	db.Close()

	// The store alone restored: refused at start.
	copyFile(t, filepath.Join(backup, "hub.db"), dbFile)
	openRefused(t, dbFile, sign, cfg, "records 11 to 25 are missing")
	// And with the published checkpoint's file removed too: the cosignature names the witness.
	if err := os.Remove(published); err != nil {
		t.Fatal(err)
	}
	openRefused(t, dbFile, sign, cfg, "cosigned by the witness dpa.example")
	db = openDB(t, dbFile)
	if _, err := audit.CheckCosigned(ctx, db.Audit(), published, []string{hubKey}); err == nil || !strings.Contains(err.Error(), "records 11 to 25 are missing") {
		t.Errorf("CheckCosigned on the rolled-back store = %v; want the records missing", err)
	}
	db.Close()

	// The whole data folder restored: the hub cannot tell, the witness can.
	copyFiles(t, backup, data)
	db = openDB(t, dbFile)
	defer db.Close()
	l, err = audit.Open(ctx, db.Audit(), sign, cfg)
	if err != nil {
		t.Fatalf("Open on the restored folder: %v", err)
	}
	defer l.Close(ctx)
	var a *witness.Alarm
	if _, err := w.Observe(ctx, hubLog{l}); !errors.As(err, &a) || a.Kind != "rollback" || a.Seen != 25 || a.Got != 10 {
		t.Errorf("the witness observing the restored hub = %v; want a rollback alarm from 25 to 10", err)
	}
	audittest.Append(t, l, 100, 120, nil) // other records where 11 to 25 were
	if _, err := w.Observe(ctx, hubLog{l}); !errors.As(err, &a) || a.Kind != "fork" || a.Seen != 25 || a.Got != 30 {
		t.Errorf("the witness observing the restored hub, grown past 25 = %v; want a fork alarm", err)
	}
}

func openDB(t *testing.T, file string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), "sqlite:"+file, sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func openRefused(t *testing.T, file string, sign audit.SignerFunc, cfg audit.Config, want string) {
	t.Helper()
	db := openDB(t, file)
	defer db.Close()
	l, err := audit.Open(context.Background(), db.Audit(), sign, cfg)
	if err == nil {
		l.Close(context.Background())
	}
	var p *audit.Problem
	if !errors.As(err, &p) || p.Checkpoint != 25 || !strings.Contains(err.Error(), want) {
		t.Errorf("Open on the rolled-back store = %v; want refused at checkpoint 25 naming %q", err, want)
	}
}

// copyFiles copies the regular files of the folder from into the folder to (the
// SQLite files, closed, and the remembered checkpoints), removing those of to that
// from lacks.
func copyFiles(t *testing.T, from, to string) {
	t.Helper()
	old, _ := os.ReadDir(to)
	for _, e := range old {
		if _, err := os.Stat(filepath.Join(from, e.Name())); errors.Is(err, os.ErrNotExist) && e.Type().IsRegular() {
			os.Remove(filepath.Join(to, e.Name()))
		}
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Type().IsRegular() {
			copyFile(t, filepath.Join(from, e.Name()), filepath.Join(to, e.Name()))
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
