package audittest

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// batch builds the batch of bodies from seq first on; hashes holds the tree's stored
// hashes and receives the new ones.
func batch(t *testing.T, first int64, hashes map[int64]tlog.Hash, bodies ...string) audit.Batch {
	t.Helper()
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = hashes[x]
		}
		return out, nil
	})
	b := audit.Batch{First: first}
	for i, body := range bodies {
		seq := first + int64(i)
		hs, err := tlog.StoredHashes(seq-1, []byte(body), r)
		if err != nil {
			t.Fatal(err)
		}
		for j, h := range hs {
			hashes[tlog.StoredHashIndex(0, seq-1)+int64(j)] = h
		}
		b.Records = append(b.Records, []byte(body))
		b.Hashes = append(b.Hashes, hs...)
	}
	return b
}

// testStore checks the store's methods directly.
func testStore(t *testing.T, open Open) {
	ctx := context.Background()
	s, _ := open(t)
	if n, err := s.Size(ctx); n != 0 || err != nil {
		t.Errorf("empty Size() = %d, %v; want 0", n, err)
	}
	if _, err := s.LatestCheckpoint(ctx); fault.KindOf(err) != fault.NotFound {
		t.Errorf("empty LatestCheckpoint() = %v; want NotFound", err)
	}
	if _, err := s.ReadHashes(ctx, []int64{0}); fault.KindOf(err) != fault.NotFound {
		t.Errorf("empty ReadHashes([0]) = %v; want NotFound", err)
	}
	hashes := map[int64]tlog.Hash{}
	b := batch(t, 1, hashes, `{"seq":1}`, `{"seq":2}`, `{"seq":3}`)
	b.Persons = []audit.PersonSeq{{Person: Person(1), Seq: 1}, {Person: Person(2), Seq: 1}, {Person: Person(1), Seq: 3}}
	if err := s.Append(ctx, b); err != nil {
		t.Fatalf("Append: %v", err)
	}
	for _, first := range []int64{1, 3, 5} {
		bad := batch(t, first, map[int64]tlog.Hash{}, `{"seq":0}`)
		if err := s.Append(ctx, bad); fault.KindOf(err) != fault.Conflict {
			t.Errorf("Append(First %d) after 3 records = %v; want Conflict", first, err)
		}
	}
	if n, err := s.Size(ctx); n != 3 || err != nil {
		t.Errorf("Size() = %d, %v; want 3", n, err)
	}
	idx := []int64{3, 0, 2, 1}
	got, err := s.ReadHashes(ctx, idx)
	if err != nil || len(got) != len(idx) {
		t.Fatalf("ReadHashes(%v) = %d hashes, %v", idx, len(got), err)
	}
	for i, x := range idx {
		if got[i] != hashes[x] {
			t.Errorf("ReadHashes(%v)[%d] = %v; want %v", idx, i, got[i], hashes[x])
		}
	}
	if _, err := s.ReadHashes(ctx, []int64{2, 3, 4}); fault.KindOf(err) != fault.NotFound {
		t.Errorf("ReadHashes past the end = %v; want NotFound", err)
	}
	es, err := s.Records(ctx, 0, 2)
	checkEntries(t, "Records(0, 2)", es, err, []int64{1, 2})
	es, err = s.Records(ctx, 2, 10)
	checkEntries(t, "Records(2, 10)", es, err, []int64{3})
	es, err = s.ByPerson(ctx, Person(1), 0, 10)
	checkEntries(t, "ByPerson(person 1)", es, err, []int64{1, 3})
	es, err = s.ByPerson(ctx, Person(1), 1, 10)
	checkEntries(t, "ByPerson(person 1, after 1)", es, err, []int64{3})
	es, err = s.ByPerson(ctx, Person(1), 0, 1)
	checkEntries(t, "ByPerson(person 1, limit 1)", es, err, []int64{1})
	es, err = s.ByPerson(ctx, Person(2), 0, 10)
	checkEntries(t, "ByPerson(person 2)", es, err, []int64{1})
	es, err = s.ByPerson(ctx, Person(3), 0, 10)
	checkEntries(t, "ByPerson(person 3)", es, err, nil)

	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, size := range []int64{1, 3} {
		if err := s.SaveCheckpoint(ctx, audit.StoredCheckpoint{Size: size, Note: "note\n", Created: at}); err != nil {
			t.Fatalf("SaveCheckpoint(%d): %v", size, err)
		}
	}
	if err := s.SaveCheckpoint(ctx, audit.StoredCheckpoint{Size: 3, Note: "other\n", Created: at}); fault.KindOf(err) != fault.Conflict {
		t.Errorf("SaveCheckpoint(3) again = %v; want Conflict", err)
	}
	if c, err := s.LatestCheckpoint(ctx); err != nil || c.Size != 3 || c.Note != "note\n" || !c.Created.Equal(at) {
		t.Errorf("LatestCheckpoint() = %+v, %v; want size 3 at %v", c, err, at)
	}
	cps, err := s.Checkpoints(ctx, 0, 1)
	if err != nil || len(cps) != 1 || cps[0].Size != 1 {
		t.Errorf("Checkpoints(0, 1) = %+v, %v; want size 1", cps, err)
	}
	if cps, err := s.Checkpoints(ctx, 1, 10); err != nil || len(cps) != 1 || cps[0].Size != 3 {
		t.Errorf("Checkpoints(1, 10) = %+v, %v; want size 3", cps, err)
	}
}

// checkEntries checks the seqs of entries, whose bodies must be {"seq":N}.
func checkEntries(t *testing.T, name string, es []audit.Entry, err error, want []int64) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var got []int64
	for _, e := range es {
		got = append(got, e.Seq)
		if want := `{"seq":` + strconv.FormatInt(e.Seq, 10) + `}`; string(e.Body) != want {
			t.Errorf("%s: body of %d = %q; want %q", name, e.Seq, e.Body, want)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = seqs %v; want %v", name, got, want)
	}
}
