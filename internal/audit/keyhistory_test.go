package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
)

// TestKeyHistory: evidence taken before a rotation of the hub's key verifies after it
// with the key history the log publishes (the old key for the checkpoints it signed),
// where the new key alone refuses it; the old key cannot vouch for a checkpoint past its
// period; the history survives a restart, and a log without its file rebuilds it from
// its stored checkpoints.
func TestKeyHistory(t *testing.T) {
	ctx := context.Background()
	store, _ := newMemStore(t)
	published := filepath.Join(t.TempDir(), "audit-checkpoint")
	signA, keyA := audittest.Signer(t, 1)
	signB, keyB := audittest.Signer(t, 2)
	open := func(sign audit.SignerFunc) *audit.Log {
		l, err := audit.Open(ctx, store, sign, audit.Config{Published: published, CheckpointEvery: 1 << 40})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := open(signA)
	audittest.Append(t, l, 0, 5, nil)
	evOld, err := l.Evidence(ctx, 3) // signs the checkpoint at 5 with key A
	if err != nil {
		t.Fatal(err)
	}
	l.Close(ctx)

	l = open(signB) // the key rotated, the hub restarted
	audittest.Append(t, l, 5, 10, nil)
	evNew, err := l.Evidence(ctx, 8) // signs the checkpoint at 10 with key B
	if err != nil {
		t.Fatal(err)
	}
	known := []string{keyB, keyA}
	hist := l.KeyHistory(known)
	want := []audit.KeyPeriod{{Key: keyA, First: 5, Last: 5}, {Key: keyB, First: 10}}
	if !samePeriods(hist, want) {
		t.Fatalf("KeyHistory = %+v; want %+v", hist, want)
	}
	if _, err := audit.VerifyEvidence(evOld, keyB); err == nil {
		t.Errorf("VerifyEvidence(evidence before the rotation, the new key only) succeeded: the test shows nothing")
	}
	for name, ev := range map[string]audit.Evidence{"before the rotation": evOld, "after": evNew} {
		if _, err := audit.VerifyEvidenceKeys(ev, hist); err != nil {
			t.Errorf("VerifyEvidenceKeys(evidence %s) = %v", name, err)
		}
	}
	// Key A, retired at 5, signs a checkpoint of the real tree at 10: refused.
	forged := evNew
	forged.Checkpoint = sign(t, signA, 10, rootOf(t, evNew.Checkpoint))
	if _, err := audit.VerifyEvidence(forged, keyA); err != nil {
		t.Fatalf("the forged evidence does not verify with key A alone: %v", err)
	}
	if _, err := audit.VerifyEvidenceKeys(forged, hist); err == nil || !strings.Contains(err.Error(), "not signed by the key that signed the checkpoints of size 10") {
		t.Errorf("VerifyEvidenceKeys(a checkpoint at 10 signed by the key retired at 5) = %v; want refused", err)
	}
	if _, err := audit.VerifyEvidenceKeys(evOld, hist[1:]); err == nil {
		t.Errorf("VerifyEvidenceKeys(evidence at 5, only key B's period from 10) succeeded")
	}
	l.Close(ctx)

	// A restart reads the history back; without its file, from the stored checkpoints.
	for _, remove := range []bool{false, true} {
		if remove {
			if err := os.Remove(audit.KeysPath(published)); err != nil {
				t.Fatal(err)
			}
		}
		l = open(signB)
		if got := l.KeyHistory(known); !samePeriods(got, want) {
			t.Errorf("KeyHistory after a restart (file removed: %v) = %+v; want %+v", remove, got, want)
		}
		l.Close(ctx)
	}
}

func samePeriods(got, want []audit.KeyPeriod) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].Key != want[i].Key || got[i].First != want[i].First || got[i].Last != want[i].Last {
			return false
		}
	}
	return true
}

func sign(t *testing.T, s audit.SignerFunc, size int64, root tlog.Hash) string {
	t.Helper()
	signer, _ := s()
	msg, err := note.Sign(&note.Note{Text: audit.Origin + "\n" + strconv.FormatInt(size, 10) + "\n" + root.String() + "\n"}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return string(msg)
}

func rootOf(t *testing.T, msg string) tlog.Hash {
	t.Helper()
	h, err := tlog.ParseHash(strings.Split(msg, "\n")[2])
	if err != nil {
		t.Fatal(err)
	}
	return h
}
