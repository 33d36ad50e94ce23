package audittest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// testResume checks VerifyWith: resuming after the last checkpoint a run verified reads
// only the records after it and gives the same root as a full run; a checkpoint from
// elsewhere, or a stored tree that does not match it, is refused; damage after it is
// found, with one worker or several.
func testResume(t *testing.T, open Open) {
	ctx := context.Background()
	s, tamper := open(t)
	l := OpenLog(t, s, audit.Config{})
	_, vkey := Signer(t, 1)
	keys := []string{vkey}
	Append(t, l, 0, 37, func(i int) []string { return []string{Person(i)} })
	if _, err := l.CheckpointNow(ctx); err != nil {
		t.Fatal(err)
	}
	first, err := audit.VerifyWith(ctx, s, keys, audit.VerifyOptions{Workers: 1})
	if err != nil || first.Last == "" || first.Records != 37 {
		t.Fatalf("VerifyWith = %+v, %v; want 37 records and a last checkpoint", first, err)
	}
	Append(t, l, 37, 100, nil)
	if _, err := l.CheckpointNow(ctx); err != nil {
		t.Fatal(err)
	}
	full := MustVerify(t, s)
	for _, workers := range []int{1, 3} {
		rep, err := audit.VerifyWith(ctx, s, keys, audit.VerifyOptions{From: first.Last, Workers: workers})
		if err != nil || rep.From != 37 || rep.Records != 100 || rep.Root != full.Root || rep.Checkpoints != 1 {
			t.Errorf("VerifyWith(from 37, %d workers) = %+v, %v; want records 38 to 100, 1 checkpoint, root %v", workers, rep, err, full.Root)
		}
	}
	// A checkpoint signed by another key, or not a checkpoint at all.
	for _, from := range []string{"not a note", signedWith(t, 2, 37, first.Root)} {
		if _, err := audit.VerifyWith(ctx, s, keys, audit.VerifyOptions{From: from}); fault.KindOf(err) != fault.Invalid {
			t.Errorf("VerifyWith(from %.20q…) = %v; want Invalid", from, err)
		}
	}
	// A checkpoint past the log's end.
	var p *audit.Problem
	if _, err := audit.VerifyWith(ctx, s, keys, audit.VerifyOptions{From: signedWith(t, 1, 500, first.Root)}); !errors.As(err, &p) || p.Checkpoint != 500 {
		t.Errorf("VerifyWith(from a checkpoint at 500 of 100) = %v; want a problem at checkpoint 500", err)
	}
	// The stored tree at 37 rewritten: its frontier no longer hashes to the signed root.
	if err := tamper.SetHash(ctx, tlog.StoredHashIndex(5, 0), tlog.Hash{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.VerifyWith(ctx, s, keys, audit.VerifyOptions{From: first.Last}); !errors.As(err, &p) || p.Checkpoint != 37 {
		t.Errorf("VerifyWith(from 37, its subtree of 32 rewritten) = %v; want a problem at checkpoint 37", err)
	}
	// A record after it rewritten: found by the resumed run.
	s2, tamper2 := open(t)
	l2 := OpenLog(t, s2, audit.Config{})
	Append(t, l2, 0, 40, nil)
	if _, err := l2.CheckpointNow(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.VerifyWith(ctx, s2, keys, audit.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	Append(t, l2, 40, 80, nil)
	if err := tamper2.SetRecord(ctx, 61, []byte(`{"seq":61}`)); err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 4} {
		if _, err := audit.VerifyWith(ctx, s2, keys, audit.VerifyOptions{From: rep.Last, Workers: workers}); !errors.As(err, &p) || p.Seq != 61 {
			t.Errorf("VerifyWith(from 40, record 61 rewritten, %d workers) = %v; want a problem at record 61", workers, err)
		}
	}
}

// signedWith signs a checkpoint of size and root with the test signer of seed.
func signedWith(t *testing.T, seed byte, size int64, root tlog.Hash) string {
	t.Helper()
	sign, _ := Signer(t, seed)
	signer, err := sign()
	if err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf("%s\n%d\n%s\n", audit.Origin, size, root)
	n, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return string(n)
}
