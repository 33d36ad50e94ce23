package audittest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/audit"
)

// testRanges checks VerifyWith on a Scanner cut into many small ranges read by several
// workers at once: the same root as one range, and damage found wherever it is — the
// first or last record of a range, inside one, the log's last record, a stored hash
// written at a range's end, in a resumed run whose first range starts off the grid —
// and, with two damaged records in different ranges, the first in log order reported
// whichever range a worker finished first.
func testRanges(t *testing.T, open Open) {
	ctx := context.Background()
	s, tamper := open(t)
	sc, ok := s.(audit.Scanner)
	if !ok {
		t.Skip("the store is not an audit.Scanner: Verify reads it record by record")
	}
	l := OpenLog(t, s, audit.Config{})
	for i := 1; i <= 103; i++ {
		if _, err := l.Append(ctx, Exchange(i)); err != nil {
			t.Fatal(err)
		}
		if i == 40 || i == 103 {
			if _, err := l.CheckpointNow(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, vkey := Signer(t, 1)
	keys := []string{vkey}
	full := MustVerify(t, s)
	verify := func(o audit.VerifyOptions) (audit.Report, *audit.Problem, error) {
		rep, err := audit.VerifyWith(ctx, s, keys, o)
		var p *audit.Problem
		if errors.As(err, &p) {
			return rep, p, nil
		}
		return rep, nil, err
	}
	for _, workers := range []int{1, 2, 3} {
		for _, chunk := range []int{1, 7, 8, 64} {
			rep, p, err := verify(audit.VerifyOptions{Workers: workers, Chunk: chunk})
			if err != nil || p != nil || rep.Records != 103 || rep.Root != full.Root || rep.Checkpoints != 2 {
				t.Fatalf("VerifyWith(%d workers, ranges of %d) = %+v, %v, %v; want 103 records, 2 checkpoints, root %v",
					workers, chunk, rep, p, err, full.Root)
			}
		}
	}
	cps, err := s.Checkpoints(ctx, 0, 1)
	if err != nil || len(cps) != 1 || cps[0].Size != 40 {
		t.Fatalf("Checkpoints = %v, %v; want the one at 40", cps, err)
	}
	at40 := cps[0].Note

	stored := func(seq int64) []byte {
		var b audit.ScanBatch
		if err := sc.ScanRecords(ctx, seq-1, 1, &b); err != nil || len(b.Records) != 1 || b.Records[0].Seq != seq {
			t.Fatalf("ScanRecords(%d) = %+v, %v", seq, b.Records, err)
		}
		return slices.Clone(b.Records[0].Body)
	}
	leaf := "stored bytes do not hash to the tree's leaf"
	// Ranges of 8 records: 1–8, 9–16, …, 97–103; resumed after 40: 41–48, …
	for _, seq := range []int64{1, 8, 9, 13, 64, 65, 97, 102, 103} {
		body := stored(seq)
		for _, i := range []int{1, len(body) / 2, len(body) - 1} { // the stored form's flags, middle, last byte
			corrupt := slices.Clone(body)
			corrupt[i] ^= 0x04
			if err := tamper.SetRecord(ctx, seq, corrupt); err != nil {
				t.Fatal(err)
			}
			for _, o := range []audit.VerifyOptions{{Workers: 3, Chunk: 8}, {Workers: 2, Chunk: 1}, {Workers: 3, Chunk: 8, From: at40}} {
				if o.From != "" && seq <= 40 {
					continue
				}
				if _, p, err := verify(o); err != nil || p == nil || p.Seq != seq || p.Reason != leaf {
					t.Errorf("VerifyWith(%d workers, ranges of %d, resumed %v) with record %d altered at byte %d = %v, %v; want %q at record %d",
						o.Workers, o.Chunk, o.From != "", seq, i, p, err, leaf, seq)
				}
			}
		}
		if err := tamper.SetRecord(ctx, seq, body); err != nil {
			t.Fatal(err)
		}
	}
	// A stored hash written by the last record of a range (level 3, records 1 to 8, by
	// record 8), and the leaf hash of a range's first record.
	for _, h := range []struct {
		index int64
		seq   int64
		why   string
	}{{tlog.StoredHashIndex(3, 0), 8, "level 3, records 1 to 8"}, {tlog.StoredHashIndex(0, 48), 49, leaf}} {
		old, err := s.ReadHashes(ctx, []int64{h.index})
		if err != nil {
			t.Fatal(err)
		}
		if err := tamper.SetHash(ctx, h.index, tlog.Hash{7}); err != nil {
			t.Fatal(err)
		}
		if _, p, err := verify(audit.VerifyOptions{Workers: 3, Chunk: 8}); err != nil || p == nil || p.Seq != h.seq || !strings.Contains(p.Reason, h.why) {
			t.Errorf("VerifyWith with stored hash %d altered = %v, %v; want %q at record %d", h.index, p, err, h.why, h.seq)
		}
		if err := tamper.SetHash(ctx, h.index, old[0]); err != nil {
			t.Fatal(err)
		}
	}
	// A record missing (a row deleted): at a range's start or end, inside one, the last.
	for _, hole := range []int64{1, 8, 9, 50, 103} {
		holey := holeyStore{Store: s, Scanner: sc, hole: hole}
		rep, err := audit.VerifyWith(ctx, holey, keys, audit.VerifyOptions{Workers: 3, Chunk: 8})
		var p *audit.Problem
		if !errors.As(err, &p) || p.Seq != hole || p.Reason != "missing" || rep.Records != hole-1 {
			t.Errorf("VerifyWith without record %d = %+v, %v; want it missing after %d good records", hole, rep, err, hole-1)
		}
	}
	// Two damaged records far apart: the first in log order is reported, though a worker
	// may finish the later range first.
	a, b := stored(30), stored(100)
	for seq, body := range map[int64][]byte{30: a, 100: b} {
		corrupt := slices.Clone(body)
		corrupt[len(corrupt)-1] ^= 1
		if err := tamper.SetRecord(ctx, seq, corrupt); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		if _, p, err := verify(audit.VerifyOptions{Workers: 3, Chunk: 4}); err != nil || p == nil || p.Seq != 30 {
			t.Fatalf("VerifyWith with records 30 and 100 altered = %v, %v; want record 30", p, err)
		}
	}
	for seq, body := range map[int64][]byte{30: a, 100: b} {
		if err := tamper.SetRecord(ctx, seq, body); err != nil {
			t.Fatal(err)
		}
	}
	MustVerify(t, s)
}

// holeyStore is a store whose Scanner leaves record hole out, as if its row were deleted.
type holeyStore struct {
	audit.Store
	audit.Scanner
	hole int64
}

func (h holeyStore) ScanRecords(ctx context.Context, after int64, limit int, b *audit.ScanBatch) error {
	var all audit.ScanBatch
	if err := h.Scanner.ScanRecords(ctx, after, limit, &all); err != nil {
		return err
	}
	b.Reset()
	for _, r := range all.Records {
		if r.Seq != h.hole {
			b.Add(r.Seq, r.Body, r.Hashes)
		}
	}
	return nil
}
