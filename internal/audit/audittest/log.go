package audittest

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

func testAppendVerify(t *testing.T, open Open, journal journalDir) {
	ctx := context.Background()
	s, _ := open(t)
	l := OpenLog(t, s, audit.Config{Journal: journal(t)})
	if _, err := l.Checkpoint(ctx); fault.KindOf(err) != fault.NotFound {
		t.Errorf("Checkpoint() of an empty log = %v; want NotFound", err)
	}
	Append(t, l, 0, 10, func(i int) []string { return []string{Person(i)} })
	if err := l.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := l.Append(ctx, Record(99)); err == nil {
		t.Errorf("Append after Close succeeded")
	}
	rep := MustVerify(t, s)
	if rep.Size != 10 || rep.Checkpoints != 1 {
		t.Errorf("Verify = %+v; want 10 records and the checkpoint of Close", rep)
	}
	cp, err := l.Checkpoint(ctx)
	if err != nil || cp.Size != 10 || cp.Root != rep.Root {
		t.Errorf("Checkpoint() = %+v, %v; want size 10, root %v", cp, err, rep.Root)
	}
	es, err := s.Records(ctx, 0, 100)
	if err != nil || len(es) != 10 {
		t.Fatalf("Records = %d, %v", len(es), err)
	}
	for i, e := range es {
		want := Record(i, Person(i))
		r := decode(t, e)
		if e.Seq != int64(i+1) || r.Seq != e.Seq || !r.Time.Equal(want.Time) || r.Client != want.Client ||
			!slices.Equal(r.Persons, want.Persons) || r.RequestHash != want.RequestHash || r.Binding == "" {
			t.Errorf("record %d = %+v; want %+v", e.Seq, r, want)
		}
	}
}

// testReopen checks that a second log on the same store continues the first.
func testReopen(t *testing.T, open Open, journal journalDir) {
	ctx := context.Background()
	s, _ := open(t)
	for round := range 3 {
		l := OpenLog(t, s, audit.Config{Journal: journal(t)})
		if l.Size() != int64(5*round) {
			t.Fatalf("round %d: reopened log has size %d", round, l.Size())
		}
		Append(t, l, 5*round, 5*round+5, nil)
		if round < 2 {
			if err := l.Close(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if rep := MustVerify(t, s); rep.Checkpoints != 2 {
		t.Errorf("Verify = %+v; want 2 checkpoints", rep)
	}
}

// testConcurrent appends from 8 goroutines while checkpoints are signed, and checks
// that every acknowledged seq holds the record it was given.
func testConcurrent(t *testing.T, open Open, journal journalDir) {
	const writers, each = 8, 1000
	ctx := context.Background()
	s, _ := open(t)
	l := OpenLog(t, s, audit.Config{CheckpointEvery: 5 * time.Millisecond, Journal: journal(t)})
	seqs := make([][]int64, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				seq, err := l.Append(ctx, Record(w*each+i, Person(w)))
				if err != nil {
					t.Errorf("writer %d: Append: %v", w, err)
					return
				}
				seqs[w] = append(seqs[w], seq)
			}
		})
	}
	wg.Wait()
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	all := slices.Concat(seqs...)
	slices.Sort(all)
	for i, seq := range all {
		if seq != int64(i+1) {
			t.Fatalf("seqs are not 1 to %d: position %d holds %d", len(all), i, seq)
		}
	}
	rep := MustVerify(t, s)
	if rep.Size != writers*each || rep.Checkpoints < 1 {
		t.Errorf("Verify = %+v; want %d records and checkpoints", rep, writers*each)
	}
	t.Logf("%d checkpoints", rep.Checkpoints)
	for w := range writers {
		for i, seq := range seqs[w] {
			if i%97 != 0 {
				continue
			}
			es, err := s.Records(ctx, seq-1, 1)
			if err != nil || len(es) != 1 {
				t.Fatalf("Records(%d) = %v, %v", seq-1, es, err)
			}
			if r, want := decode(t, es[0]), Record(w*each+i); !r.Time.Equal(want.Time) {
				t.Errorf("record %d is %v's; want %v's (writer %d)", seq, r.Time, want.Time, w)
			}
		}
	}
}

// decode parses a stored record.
func decode(t *testing.T, e audit.Entry) audit.Record {
	t.Helper()
	var r audit.Record
	if err := json.Unmarshal(e.Body, &r); err != nil {
		t.Fatalf("record %d: %v", e.Seq, err)
	}
	return r
}

func testByPerson(t *testing.T, open Open, journal journalDir) {
	ctx := context.Background()
	s, _ := open(t)
	l := OpenLog(t, s, audit.Config{Journal: journal(t)})
	// Record i concerns person i%3 and, when i is even, also person 7 (twice, once
	// deduplicated).
	Append(t, l, 0, 30, func(i int) []string {
		if i%2 == 0 {
			return []string{Person(i % 3), Person(7), Person(7)}
		}
		return []string{Person(i % 3)}
	})
	var got []int64
	for after := int64(0); ; {
		rs, err := l.ByPerson(ctx, Person(7), after, 4)
		if err != nil {
			t.Fatalf("ByPerson: %v", err)
		}
		if len(rs) == 0 {
			break
		}
		if len(rs) > 4 {
			t.Fatalf("ByPerson(limit 4) returned %d records", len(rs))
		}
		for _, r := range rs {
			got = append(got, r.Seq)
			if !slices.Contains(r.Persons, Person(7)) {
				t.Errorf("ByPerson(person 7) returned record %d about %v", r.Seq, r.Persons)
			}
		}
		after = rs[len(rs)-1].Seq
	}
	var want []int64
	for i := 0; i < 30; i += 2 {
		want = append(want, int64(i+1))
	}
	if !slices.Equal(got, want) {
		t.Errorf("ByPerson(person 7) = seqs %v; want %v", got, want)
	}
	rs, err := l.ByPerson(ctx, Person(1), 20, 100)
	if err != nil || len(rs) != 3 || rs[0].Seq != 23 || rs[0].Client != Record(22).Client {
		t.Errorf("ByPerson(person 1, after 20) = %+v, %v; want records 23, 26, 29", rs, err)
	}
}

// flaky is a store whose appends fail on demand, before or after committing.
type flaky struct {
	audit.Store
	before, after atomic.Bool
}

func (f *flaky) Append(ctx context.Context, b audit.Batch) error {
	if f.before.Load() {
		return fault.Unavailablef(nil, "the disk is full")
	}
	if err := f.Store.Append(ctx, b); err != nil {
		return err
	}
	if f.after.Load() {
		return fault.Unavailablef(nil, "connection lost during COMMIT")
	}
	return nil
}

// testFailClosed checks that no record is acknowledged unless committed, and that the
// log recovers when the store does, even when a failed batch had in fact committed.
func testFailClosed(t *testing.T, open Open) {
	ctx := context.Background()
	s, _ := open(t)
	f := &flaky{Store: s}
	l := OpenLog(t, f, audit.Config{})
	Append(t, l, 0, 5, nil)
	for _, mode := range []*atomic.Bool{&f.before, &f.after} {
		mode.Store(true)
		var wg sync.WaitGroup
		var acked atomic.Int64
		for i := range 20 {
			wg.Go(func() {
				if seq, err := l.Append(ctx, Record(100+i)); err == nil || seq != 0 {
					acked.Add(1)
				} else if fault.KindOf(err) != fault.Unavailable {
					t.Errorf("failed Append = %v; want Unavailable", err)
				}
			})
		}
		wg.Wait()
		mode.Store(false)
		if n := acked.Load(); n != 0 {
			t.Errorf("%d records acknowledged while the store failed", n)
		}
		size, _ := s.Size(ctx)
		seq, err := l.Append(ctx, Record(200))
		if err != nil || seq != size+1 {
			t.Errorf("Append after recovery = %d, %v; want %d", seq, err, size+1)
		}
	}
	if size, _ := s.Size(ctx); size != 5+1+20+1 {
		t.Errorf("store holds %d records; want 27 (records of a batch whose commit was reported failed stay)", size)
	}
	l.Close(ctx)
	MustVerify(t, s)
}
