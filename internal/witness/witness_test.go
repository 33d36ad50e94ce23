package witness_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
	"github.com/crossroads-hub/crossroads/internal/witness"
)

// hubLog is a hub's audit log as a witness.Source.
type hubLog struct{ l *audit.Log }

func (h hubLog) Checkpoint(ctx context.Context) (string, error) {
	cp, err := h.l.CheckpointNow(ctx)
	return cp.Note, err
}

func (h hubLog) Consistency(ctx context.Context, from, to int64) (audit.Consistency, error) {
	return h.l.Consistency(ctx, from, to)
}

// fixed shows one checkpoint, whatever the log holds: a hub showing an old state.
type fixed struct {
	hubLog
	note string
}

func (f fixed) Checkpoint(context.Context) (string, error) { return f.note, nil }

func newLog(t *testing.T) *audit.Log {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "hub.db"), sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return audittest.OpenLog(t, db.Audit(), audit.Config{})
}

func TestWitness(t *testing.T) {
	ctx := context.Background()
	_, hubKey := audittest.Signer(t, 1)
	dir := t.TempDir()
	w, err := witness.Open(dir, "witness.example", []string{hubKey})
	if err != nil {
		t.Fatal(err)
	}
	l := newLog(t)
	hub := hubLog{l}
	audittest.Append(t, l, 0, 10, nil)
	first, err := w.Observe(ctx, hub)
	if err != nil {
		t.Fatalf("first Observe: %v", err)
	}
	for _, key := range []string{hubKey, w.VerifierKey()} {
		v, _ := note.NewVerifier(key)
		if n, err := note.Open([]byte(first), note.VerifierList(v)); err != nil || len(n.Sigs) != 1 || len(n.UnverifiedSigs) != 1 {
			t.Errorf("the cosigned checkpoint with key %s alone: %v; want one verified and one other signature", key, err)
		}
	}
	audittest.Append(t, l, 10, 25, nil)
	if _, err := w.Observe(ctx, hub); err != nil || w.Last().Size != 25 {
		t.Fatalf("Observe after 15 more records = %v, last %d; want cosigned at 25", err, w.Last().Size)
	}
	if _, err := w.Observe(ctx, hub); err != nil {
		t.Errorf("Observe of the same checkpoint again: %v", err)
	}

	// The witness keeps what it saw across restarts: the hub cannot go back.
	w, err = witness.Open(dir, "ignored-on-restart", []string{hubKey})
	if err != nil || w.Last().Size != 25 {
		t.Fatalf("reopened witness: last %d, %v; want 25", w.Last().Size, err)
	}
	var a *witness.Alarm
	if _, err := w.Observe(ctx, fixed{hub, firstNote(t, first)}); !errors.As(err, &a) || a.Kind != "rollback" || a.Seen != 25 || a.Got != 10 {
		t.Errorf("Observe of a rolled-back checkpoint = %v; want a rollback alarm", err)
	}

	// A fork: another log under the same key, longer, and one of the same size.
	other := newLog(t)
	audittest.Append(t, other, 100, 125, nil)
	if _, err := w.Observe(ctx, hubLog{other}); !errors.As(err, &a) || a.Kind != "fork" {
		t.Errorf("Observe of another log of the same size = %v; want a fork alarm", err)
	}
	audittest.Append(t, other, 125, 140, nil)
	if _, err := w.Observe(ctx, hubLog{other}); !errors.As(err, &a) || a.Kind != "fork" {
		t.Errorf("Observe of another, longer log = %v; want a fork alarm", err)
	}
	if w.Last().Size != 25 {
		t.Errorf("after the alarms the witness's last checkpoint is at %d; want 25 kept", w.Last().Size)
	}

	// Not the hub's key: an error, not an alarm, and nothing cosigned.
	sign2, _ := audittest.Signer(t, 2)
	forged, err := audit.Open(ctx, newStore(t), sign2, audit.Config{CheckpointEvery: 3600e9})
	if err != nil {
		t.Fatal(err)
	}
	defer forged.Close(ctx)
	audittest.Append(t, forged, 0, 30, nil)
	if _, err := w.Observe(ctx, hubLog{forged}); err == nil || errors.As(err, &a) {
		t.Errorf("Observe of a checkpoint signed by another key = %v; want refused without alarm", err)
	}

	// The honest hub goes on.
	audittest.Append(t, l, 25, 40, nil)
	if _, err := w.Observe(ctx, hub); err != nil || w.Last().Size != 40 {
		t.Errorf("Observe of the honest hub after the alarms = %v, last %d; want 40", err, w.Last().Size)
	}
}

func newStore(t *testing.T) audit.Store {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "hub.db"), sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db.Audit()
}

// firstNote returns the hub's note alone from a cosigned one (its first signature).
func firstNote(t *testing.T, cosigned string) string {
	t.Helper()
	_, hubKey := audittest.Signer(t, 1)
	v, _ := note.NewVerifier(hubKey)
	n, err := note.Open([]byte(cosigned), note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	n.UnverifiedSigs = nil
	msg, err := note.Sign(n)
	if err != nil {
		t.Fatal(err)
	}
	return string(msg)
}

func TestOpenNeedsHubKey(t *testing.T) {
	if _, err := witness.Open(t.TempDir(), "w", nil); err == nil {
		t.Error("Open without the hub's key succeeded")
	}
}
