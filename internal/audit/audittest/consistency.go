package audittest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// testConsistency checks the consistency proofs between checkpoints, from the log and
// from the store alone, and that VerifyConsistency refuses every altered proof, a
// rollback and a rewritten log.
func testConsistency(t *testing.T, open Open, journal journalDir) {
	ctx := context.Background()
	s, _ := open(t)
	l := OpenLog(t, s, audit.Config{Journal: journal(t)})
	_, vkey := Signer(t, 1)
	_, other := Signer(t, 2)
	var notes []string
	for _, size := range []int{1, 7, 8, 20, 33} {
		Append(t, l, int(l.Size()), size, nil)
		cp, err := l.CheckpointNow(ctx)
		if err != nil || cp.Size != int64(size) {
			t.Fatalf("CheckpointNow = %d, %v; want %d", cp.Size, err, size)
		}
		notes = append(notes, cp.Note)
	}
	for i := range notes {
		for k := i; k < len(notes); k++ {
			from, to := sizeOf(t, notes[i]), sizeOf(t, notes[k])
			c, err := l.Consistency(ctx, from, to)
			if err != nil {
				t.Fatalf("Consistency(%d, %d): %v", from, to, err)
			}
			c = roundTripJSON(t, c)
			if c.Checkpoint != notes[k] {
				t.Errorf("Consistency(%d, %d) carries checkpoint %q; want the one of size %d", from, to, c.Checkpoint, to)
			}
			if f, tt, err := audit.VerifyConsistency(notes[i], c.Checkpoint, c.Proof, vkey); err != nil || f != from || tt != to {
				t.Errorf("VerifyConsistency(%d, %d) = %d, %d, %v", from, to, f, tt, err)
			}
			if k > i {
				if _, _, err := audit.VerifyConsistency(notes[k], notes[i], c.Proof, vkey); err == nil || !strings.Contains(err.Error(), "rolled back") {
					t.Errorf("VerifyConsistency of a smaller newer checkpoint = %v; want a rollback", err)
				}
			}
		}
	}
	latest, err := l.Consistency(ctx, 7, 0)
	if err != nil || latest.To != 33 || latest.Checkpoint != notes[4] {
		t.Fatalf("Consistency(7, latest) = %+v, %v; want to 33 with its checkpoint", latest, err)
	}
	stored, err := audit.ProveConsistency(ctx, s, 7, 33)
	if err != nil || !equalProofs(stored.Proof, latest.Proof) || stored.Checkpoint != notes[4] {
		t.Errorf("ProveConsistency from the store = %+v, %v; want the log's proof", stored, err)
	}
	if c, err := l.Consistency(ctx, 3, 5); err != nil || c.Checkpoint != "" || len(c.Proof) == 0 {
		t.Errorf("Consistency(3, 5), sizes without a checkpoint = %+v, %v; want a proof without one", c, err)
	}
	for _, bad := range [][2]int64{{0, 7}, {-1, 7}, {8, 7}, {7, 34}, {34, 34}} {
		if _, err := l.Consistency(ctx, bad[0], bad[1]); fault.KindOf(err) != fault.Invalid {
			t.Errorf("Consistency(%d, %d) = %v; want Invalid", bad[0], bad[1], err)
		}
	}
	checkAlteredConsistency(t, notes[1], latest, vkey, other)
}

// checkAlteredConsistency alters a good proof from the checkpoint old to c.Checkpoint
// one way at a time; VerifyConsistency must refuse each.
func checkAlteredConsistency(t *testing.T, old string, c audit.Consistency, vkey, other string) {
	if _, _, err := audit.VerifyConsistency(old, c.Checkpoint, c.Proof, other); err == nil {
		t.Errorf("VerifyConsistency with another key succeeded")
	}
	bad := map[string]func(old, new *string, p *tlog.TreeProof){
		"proof byte":       func(_, _ *string, p *tlog.TreeProof) { (*p)[0][3] ^= 1 },
		"proof last byte":  func(_, _ *string, p *tlog.TreeProof) { (*p)[len(*p)-1][31] ^= 1 },
		"proof short":      func(_, _ *string, p *tlog.TreeProof) { *p = (*p)[:len(*p)-1] },
		"proof long":       func(_, _ *string, p *tlog.TreeProof) { *p = append(*p, tlog.Hash{}) },
		"no proof":         func(_, _ *string, p *tlog.TreeProof) { *p = nil },
		"older text":       func(o, _ *string, _ *tlog.TreeProof) { *o = flip(*o, len(audit.Origin)+1) },
		"newer signature":  func(_, n *string, _ *tlog.TreeProof) { *n = flip(*n, len(*n)-3) },
		"older unsigned":   func(o, _ *string, _ *tlog.TreeProof) { *o = (*o)[:strings.Index(*o, "\n\n")+2] },
		"newer is garbage": func(_, n *string, _ *tlog.TreeProof) { *n = "not a checkpoint" },
	}
	for name, change := range bad {
		o, n, p := old, c.Checkpoint, append(tlog.TreeProof(nil), c.Proof...)
		change(&o, &n, &p)
		if _, _, err := audit.VerifyConsistency(o, n, p, vkey); err == nil {
			t.Errorf("VerifyConsistency with %s succeeded", name)
		}
	}
}

// testFork signs checkpoints of two different logs with one key: neither extends the
// other, and VerifyConsistency says so whatever proof it is given.
func testFork(t *testing.T, open Open) {
	ctx := context.Background()
	s1, _ := open(t)
	s2, _ := open(t)
	l1 := OpenLog(t, s1, audit.Config{})
	l2 := OpenLog(t, s2, audit.Config{})
	_, vkey := Signer(t, 1)
	Append(t, l1, 0, 10, nil)
	Append(t, l2, 0, 9, nil)
	Append(t, l2, 100, 101, nil) // record 10 differs
	old1, _ := l1.CheckpointNow(ctx)
	old2, _ := l2.CheckpointNow(ctx)
	if _, _, err := audit.VerifyConsistency(old1.Note, old2.Note, nil, vkey); err == nil || !strings.Contains(err.Error(), "rewritten") {
		t.Errorf("VerifyConsistency of two checkpoints of size 10 with different roots = %v; want rewritten", err)
	}
	Append(t, l2, 200, 230, nil)
	if c, err := l2.Consistency(ctx, 10, 0); err != nil || c.To != 10 {
		t.Errorf("Consistency(10, latest) before a new checkpoint = to %d, %v; want the latest checkpoint, 10, not one signed on demand", c.To, err)
	}
	if _, err := l2.CheckpointNow(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := l2.Consistency(ctx, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := audit.VerifyConsistency(old1.Note, c.Checkpoint, c.Proof, vkey); err == nil || !strings.Contains(err.Error(), "does not extend") {
		t.Errorf("VerifyConsistency across a fork = %v; want does not extend", err)
	}
}

func sizeOf(t *testing.T, note string) int64 {
	t.Helper()
	var size int64
	lines := strings.Split(note, "\n")
	if err := json.Unmarshal([]byte(lines[1]), &size); err != nil {
		t.Fatalf("checkpoint %q: %v", note, err)
	}
	return size
}

func roundTripJSON[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back T
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

func equalProofs(a, b tlog.TreeProof) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
