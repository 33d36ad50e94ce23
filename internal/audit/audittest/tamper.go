package audittest

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

func testEvidence(t *testing.T, open Open, journal journalDir) {
	ctx := context.Background()
	s, _ := open(t)
	l := OpenLog(t, s, audit.Config{Journal: journal(t)})
	_, vkey := Signer(t, 1)
	_, other := Signer(t, 2)
	Append(t, l, 0, 20, nil)
	for _, seq := range []int64{0, 21} {
		if _, err := l.Evidence(ctx, seq); fault.KindOf(err) != fault.NotFound {
			t.Errorf("Evidence(%d) = %v; want NotFound", seq, err)
		}
	}
	evs := map[int64]audit.Evidence{}
	for seq := int64(1); seq <= 20; seq++ {
		ev, err := l.Evidence(ctx, seq)
		if err != nil {
			t.Fatalf("Evidence(%d): %v", seq, err)
		}
		ev = roundTrip(t, ev)
		r, err := audit.VerifyEvidence(ev, vkey)
		if err != nil || r.Seq != seq || !r.Time.Equal(Record(int(seq-1)).Time) {
			t.Errorf("VerifyEvidence(Evidence(%d)) = record %d, %v", seq, r.Seq, err)
		}
		evs[seq] = ev
	}
	if ev, err := l.EvidenceFor(ctx, 3, "FUND"); err != nil || ev.Seq != 3 {
		t.Errorf("EvidenceFor(3, the institution of the exchange) = %d, %v", ev.Seq, err)
	}
	for _, inst := range []string{"OTHER", "", "fund"} {
		if _, err := l.EvidenceFor(ctx, 3, inst); fault.KindOf(err) != fault.Forbidden {
			t.Errorf("EvidenceFor(3, %q) = %v; want Forbidden", inst, err)
		}
	}
	if cp, _ := l.Checkpoint(ctx); cp.Size != 20 {
		t.Errorf("Evidence signed a checkpoint of size %d; want 20", cp.Size)
	}
	ev := evs[7]
	if _, err := audit.VerifyEvidence(ev, other); err == nil {
		t.Errorf("VerifyEvidence with another key succeeded")
	}
	if _, err := audit.VerifyEvidence(ev, other, vkey); err != nil {
		t.Errorf("VerifyEvidence with the old and new keys of a rotation = %v", err)
	}
	Append(t, l, 20, 25, nil)
	later, err := l.Evidence(ctx, 25)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(ev *audit.Evidence){
		"record first byte":   func(ev *audit.Evidence) { ev.Record[0] ^= 1 },
		"record middle byte":  func(ev *audit.Evidence) { ev.Record[len(ev.Record)/2] ^= 1 },
		"record last byte":    func(ev *audit.Evidence) { ev.Record[len(ev.Record)-1] ^= 1 },
		"another record":      func(ev *audit.Evidence) { ev.Record = evs[8].Record },
		"another seq":         func(ev *audit.Evidence) { ev.Seq = 8 },
		"seq 0":               func(ev *audit.Evidence) { ev.Seq = 0 },
		"seq past checkpoint": func(ev *audit.Evidence) { ev.Seq = 21 },
		"proof byte":          func(ev *audit.Evidence) { ev.Proof[1][5] ^= 1 },
		"proof short":         func(ev *audit.Evidence) { ev.Proof = ev.Proof[:len(ev.Proof)-1] },
		"proof long":          func(ev *audit.Evidence) { ev.Proof = append(ev.Proof, tlog.Hash{}) },
		"no proof":            func(ev *audit.Evidence) { ev.Proof = nil },
		"checkpoint text":     func(ev *audit.Evidence) { ev.Checkpoint = flip(ev.Checkpoint, len(audit.Origin)+2) },
		"checkpoint sig":      func(ev *audit.Evidence) { ev.Checkpoint = flip(ev.Checkpoint, len(ev.Checkpoint)-3) },
		"other checkpoint":    func(ev *audit.Evidence) { ev.Checkpoint = later.Checkpoint },
		"no checkpoint":       func(ev *audit.Evidence) { ev.Checkpoint = "" },
	}
	for name, change := range bad {
		ev := roundTrip(t, evs[7])
		ev.Proof = slices.Clone(ev.Proof)
		change(&ev)
		if _, err := audit.VerifyEvidence(ev, vkey); err == nil {
			t.Errorf("VerifyEvidence of evidence with %s succeeded", name)
		}
	}
	again, err := l.Evidence(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.VerifyEvidence(roundTrip(t, again), vkey); err != nil || again.Checkpoint != later.Checkpoint {
		t.Errorf("Evidence(7) after the checkpoint at 25 = %v; want it proved against that checkpoint", err)
	}
}

// roundTrip passes ev through JSON, as it travels to whoever checks it.
func roundTrip(t *testing.T, ev audit.Evidence) audit.Evidence {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var back audit.Evidence
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

func flip(s string, i int) string {
	b := []byte(s)
	b[i] ^= 1
	return string(b)
}

// testTamper corrupts one thing at a time and checks that Verify names it.
func testTamper(t *testing.T, open Open) {
	ctx := context.Background()
	s, tam := open(t)
	l := OpenLog(t, s, audit.Config{})
	for _, size := range []int{10, 20, 40} {
		Append(t, l, int(l.Size()), size, func(i int) []string { return []string{Person(i)} })
		if _, err := l.CheckpointNow(ctx); err != nil {
			t.Fatal(err)
		}
	}
	l.Close(ctx)
	MustVerify(t, s)

	for _, seq := range []int64{1, 7, 20, 40} {
		es, err := s.Records(ctx, seq-1, 1)
		if err != nil {
			t.Fatal(err)
		}
		body := es[0].Body
		for _, i := range []int{0, 1, len(body) / 3, len(body) / 2, len(body) - 2, len(body) - 1} {
			corrupt := slices.Clone(body)
			corrupt[i] ^= 0x20
			expect(t, s, "record", func() error { return tam.SetRecord(ctx, seq, corrupt) },
				func() error { return tam.SetRecord(ctx, seq, body) },
				audit.Problem{Seq: seq, Reason: "stored bytes do not hash to the tree's leaf"})
		}
	}
	hashes := []struct {
		index int64
		seq   int64 // the record that wrote it
		why   string
	}{
		{tlog.StoredHashIndex(0, 0), 1, "leaf"},
		{tlog.StoredHashIndex(0, 12), 13, "leaf"},
		{tlog.StoredHashIndex(1, 0), 2, "level 1, records 1 to 2"},
		{tlog.StoredHashIndex(2, 1), 8, "level 2, records 5 to 8"},
		{tlog.StoredHashIndex(5, 0), 32, "level 5, records 1 to 32"},
	}
	for _, h := range hashes {
		old, err := s.ReadHashes(ctx, []int64{h.index})
		if err != nil {
			t.Fatal(err)
		}
		for _, byt := range []int{0, 31} {
			corrupt := old[0]
			corrupt[byt] ^= 0x80
			expect(t, s, "stored hash", func() error { return tam.SetHash(ctx, h.index, corrupt) },
				func() error { return tam.SetHash(ctx, h.index, old[0]) },
				audit.Problem{Seq: h.seq, Reason: h.why})
		}
	}
	cps, err := s.Checkpoints(ctx, 0, 10)
	if err != nil || len(cps) != 3 {
		t.Fatalf("Checkpoints = %v, %v; want 3", cps, err)
	}
	sign, _ := Signer(t, 1)
	otherSign, _ := Signer(t, 2)
	for _, c := range cps {
		for _, i := range []int{0, len(audit.Origin) + 1, len(audit.Origin) + 5, len(c.Note) - 20, len(c.Note) - 2} {
			expect(t, s, "checkpoint", func() error { return tam.SetCheckpoint(ctx, c.Size, flip(c.Note, i)) },
				func() error { return tam.SetCheckpoint(ctx, c.Size, c.Note) },
				audit.Problem{Checkpoint: c.Size})
		}
		forged := map[string]string{
			"root hash differs from the recomputed tree": signTree(t, sign, c.Size, tlog.Hash{1}),
			"the note is for size":                       signTree(t, sign, c.Size+1, tlog.Hash{1}),
			"not signed by a known key":                  signTree(t, otherSign, c.Size, rootOf(t, c.Note)),
		}
		for why, n := range forged {
			expect(t, s, "checkpoint", func() error { return tam.SetCheckpoint(ctx, c.Size, n) },
				func() error { return tam.SetCheckpoint(ctx, c.Size, c.Note) },
				audit.Problem{Checkpoint: c.Size, Reason: why})
		}
	}
	// Two corruptions: the first in log order is reported.
	es, _ := s.Records(ctx, 14, 1)
	corrupt := slices.Clone(es[0].Body)
	corrupt[3] ^= 1
	expect(t, s, "record and checkpoint", func() error {
		if err := tam.SetCheckpoint(ctx, 10, flip(cps[0].Note, 3)); err != nil {
			return err
		}
		return tam.SetRecord(ctx, 15, corrupt)
	}, func() error {
		if err := tam.SetCheckpoint(ctx, 10, cps[0].Note); err != nil {
			return err
		}
		return tam.SetRecord(ctx, 15, es[0].Body)
	}, audit.Problem{Checkpoint: 10})

	// A log does not open on a tree that differs from its latest checkpoint.
	idx := tlog.StoredHashIndex(3, 4) // records 33 to 40, part of the root at 40
	old, _ := s.ReadHashes(ctx, []int64{idx})
	if err := tam.SetHash(ctx, idx, tlog.Hash{9}); err != nil {
		t.Fatal(err)
	}
	sig, _ := Signer(t, 1)
	if l, err := audit.Open(ctx, s, sig, audit.Config{}); err == nil {
		l.Close(ctx)
		t.Errorf("Open on a tree that differs from its checkpoint succeeded")
	}
	if err := tam.SetHash(ctx, idx, old[0]); err != nil {
		t.Fatal(err)
	}
	MustVerify(t, s)
}

// expect corrupts the store, checks that Verify reports want (Reason as a substring),
// and repairs the store.
func expect(t *testing.T, s audit.Store, what string, corrupt, repair func() error, want audit.Problem) {
	t.Helper()
	if err := corrupt(); err != nil {
		t.Fatalf("corrupt %s: %v", what, err)
	}
	p := problem(t, s)
	if p.Seq != want.Seq || p.Checkpoint != want.Checkpoint || !strings.Contains(p.Reason, want.Reason) {
		t.Errorf("Verify with a corrupt %s = %q; want %q", what, p, &want)
	}
	if err := repair(); err != nil {
		t.Fatalf("repair %s: %v", what, err)
	}
}

// signTree signs a checkpoint text of the given size and root.
func signTree(t *testing.T, sign audit.SignerFunc, size int64, root tlog.Hash) string {
	t.Helper()
	signer, _ := sign()
	text := audit.Origin + "\n" + strconv.FormatInt(size, 10) + "\n" + root.String() + "\n"
	msg, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return string(msg)
}

func rootOf(t *testing.T, msg string) tlog.Hash {
	t.Helper()
	lines := strings.Split(msg, "\n")
	h, err := tlog.ParseHash(lines[2])
	if err != nil {
		t.Fatal(err)
	}
	return h
}
