package audit_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// failingStore refuses every batch while fail is set. While held (hold), a batch waits
// until release and is then refused: the log's flusher is busy with it, so the records
// appended meanwhile are all acknowledged from the journal, whatever the machine's load
// (a flush refused first would make the log refuse them).
type failingStore struct {
	audit.Store
	mu   sync.Mutex
	fail bool
	held chan struct{}
}

func (s *failingStore) Append(ctx context.Context, b audit.Batch) error {
	s.mu.Lock()
	fail, held := s.fail, s.held
	s.mu.Unlock()
	if held != nil {
		<-held
		return fault.Unavailablef(nil, "the disk is full")
	}
	if fail {
		return fault.Unavailablef(nil, "the disk is full")
	}
	return s.Store.Append(ctx, b)
}

func (s *failingStore) set(fail bool) {
	s.mu.Lock()
	s.fail = fail
	s.mu.Unlock()
}

// hold makes the next batches wait, then fail; release lets them fail, and the later
// ones fail at once.
func (s *failingStore) hold() {
	s.mu.Lock()
	s.fail, s.held = true, make(chan struct{})
	s.mu.Unlock()
}

func (s *failingStore) release() {
	s.mu.Lock()
	close(s.held)
	s.held = nil
	s.mu.Unlock()
}

// TestJournalReadYourWrites checks that with a journal a record is readable as soon as
// its Append returns: reads wait for the records acknowledged before them.
func TestJournalReadYourWrites(t *testing.T) {
	ctx := context.Background()
	s, _ := newMemStore(t)
	l := audittest.OpenLog(t, s, audit.Config{Journal: t.TempDir()})
	for i := range 50 {
		p := audittest.Person(i % 7)
		seq, err := l.Append(ctx, audittest.Record(i, p))
		if err != nil || seq != int64(i+1) {
			t.Fatalf("Append %d = %d, %v", i, seq, err)
		}
		recs, err := l.ByPerson(ctx, p, seq-1, 10)
		if err != nil || len(recs) != 1 || recs[0].Seq != seq {
			t.Fatalf("ByPerson right after Append %d = %+v, %v", seq, recs, err)
		}
		if i%10 == 0 {
			if _, err := l.Evidence(ctx, seq); err != nil {
				t.Fatalf("Evidence right after Append %d: %v", seq, err)
			}
		}
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	audittest.MustVerify(t, s)
}

// TestJournalKeepsAcknowledged checks what the journal is for: records acknowledged
// while the store refused them are stored when the log opens next, the log refuses new
// records meanwhile (fail closed), and it takes them again once the store recovers.
func TestJournalKeepsAcknowledged(t *testing.T) {
	ctx := context.Background()
	mem, _ := newMemStore(t)
	s := &failingStore{Store: mem}
	dir := t.TempDir()
	sign, _ := audittest.Signer(t, 1)
	l, err := audit.Open(ctx, s, sign, audit.Config{Journal: dir})
	if err != nil {
		t.Fatal(err)
	}
	audittest.Append(t, l, 0, 5, nil)
	if cp, err := l.CheckpointNow(ctx); err != nil || cp.Size != 5 {
		t.Fatalf("CheckpointNow = %d, %v; want the 5 records acknowledged", cp.Size, err)
	}
	s.set(true)
	acked := map[int64]int{} // seq → record
	refused := false
	deadline := time.Now().Add(10 * time.Second)
	for i := 5; !refused && time.Now().Before(deadline); i++ {
		seq, err := l.Append(ctx, audittest.Record(i))
		switch {
		case err == nil:
			acked[seq] = i
		case fault.KindOf(err) == fault.Unavailable:
			refused = true
		default:
			t.Fatalf("Append while the store fails = %v; want Unavailable", err)
		}
	}
	if !refused || len(acked) == 0 {
		t.Fatalf("while the store failed: %d acknowledged, refused %v; want some acknowledged (journaled), then refusals", len(acked), refused)
	}
	if err := l.Close(ctx); err == nil || !strings.Contains(err.Error(), "journal") {
		t.Errorf("Close with records the store refused = %v; want an error naming the journal", err)
	}
	if size, _ := mem.Size(ctx); size != 5 {
		t.Fatalf("the store holds %d records; want the 5 stored before it failed", size)
	}

	// A crash would leave the same: records in the journal, not in the store.
	first, last, err := audit.Unstored(dir, 5)
	if err != nil || first != 6 || last != int64(5+len(acked)) {
		t.Errorf("Unstored = %d, %d, %v; want 6, %d", first, last, err, 5+len(acked))
	}
	s.set(false)
	l = audittest.OpenLog(t, s, audit.Config{Journal: dir})
	if got := l.Size(); got != int64(5+len(acked)) {
		t.Fatalf("after reopening the store holds %d records; want %d", got, 5+len(acked))
	}
	es, err := mem.Records(ctx, 5, len(acked))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		var r audit.Record
		if err := json.Unmarshal(e.Body, &r); err != nil {
			t.Fatalf("record %d: %v", e.Seq, err)
		}
		if want := audittest.Record(acked[e.Seq]); r.RequestHash != want.RequestHash {
			t.Errorf("record %d has request hash %s; want record %d's %s", e.Seq, r.RequestHash, acked[e.Seq], want.RequestHash)
		}
	}
	audittest.Append(t, l, 1000, 1010, nil)
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	audittest.MustVerify(t, s)
	if first, last, err := audit.Unstored(dir, 0); err != nil || last != 0 {
		t.Errorf("journal after a clean Close holds %d to %d (%v); want nothing", first, last, err)
	}
}

// TestJournalRecovers checks recovery from what a crash leaves: a torn last frame is a
// write that was never acknowledged and is ignored; a missing segment is records lost,
// and the log refuses to open.
func TestJournalRecovers(t *testing.T) {
	ctx := context.Background()
	mem, _ := newMemStore(t)
	s := &failingStore{Store: mem}
	dir := t.TempDir()
	l := audittest.OpenLog(t, s, audit.Config{Journal: dir})
	audittest.Append(t, l, 0, 3, nil)
	s.set(true)
	n := 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); n++ {
		if _, err := l.Append(ctx, audittest.Record(n)); err != nil {
			break
		}
	}
	l.Close(ctx)
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) != 1 {
		t.Fatalf("journal segments: %v; want one", segs)
	}
	f, err := os.OpenFile(segs[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{200, 0, 0, 0, 1, 2, 3, 4, 5}) // a frame header and the start of its payload
	f.Close()

	// Another log cannot use the journal while this one has it.
	s.set(false)
	l = audittest.OpenLog(t, s, audit.Config{Journal: dir})
	sign, _ := audittest.Signer(t, 1)
	if _, err := audit.Open(ctx, s, sign, audit.Config{Journal: dir}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("a second log on the same journal: %v; want refused", err)
	}
	if got := l.Size(); got != int64(3+n) {
		t.Errorf("after recovery the store holds %d records; want %d", got, 3+n)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	audittest.MustVerify(t, s)

	// A journal that does not follow its store: records acknowledged and lost.
	dir2 := t.TempDir()
	s2 := &failingStore{Store: mem}
	l2 := audittest.OpenLog(t, s2, audit.Config{Journal: dir2})
	audittest.Append(t, l2, 0, 2, nil)
	s2.set(true)
	if _, err := l2.Append(ctx, audittest.Record(2)); err != nil {
		t.Fatalf("the first Append after the store fails is journaled: %v", err)
	}
	l2.Close(ctx)
	other, _ := newMemStore(t)
	if _, err := audit.Open(ctx, other, sign, audit.Config{Journal: dir2}); err == nil || !strings.Contains(err.Error(), "lost") {
		t.Errorf("Open with a journal that does not follow the store = %v; want refused, naming records lost", err)
	}
}

// TestJournalDamageStopsOpen is the case: acknowledged records wait in the
// journal while the store fails, one byte of a frame in the middle of the segment
// flips; the log must not open (dropping them silently), and must name them.
func TestJournalDamageStopsOpen(t *testing.T) {
	ctx := context.Background()
	mem, _ := newMemStore(t)
	s := &failingStore{Store: mem}
	dir := t.TempDir()
	l := audittest.OpenLog(t, s, audit.Config{Journal: dir})
	audittest.Append(t, l, 0, 3, nil)
	s.hold()
	for i := 3; i < 28; i++ {
		if _, err := l.Append(ctx, audittest.Record(i)); err != nil {
			t.Fatalf("Append %d while the store fails: %v", i, err)
		}
	}
	s.release()
	l.Close(ctx)
	stored, _ := mem.Size(ctx)
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) != 1 {
		t.Fatalf("journal segments: %v; want one", segs)
	}
	data, _ := os.ReadFile(segs[0])
	data[len(data)/2] ^= 0x10
	os.WriteFile(segs[0], data, 0o600)
	s.set(false)
	sign, _ := audittest.Signer(t, 1)
	_, err := audit.Open(ctx, s, sign, audit.Config{Journal: dir})
	var d *audit.JournalDamage
	if !errors.As(err, &d) || d.Segment != segs[0] || d.First < 1 || d.First > 28 || !strings.Contains(err.Error(), "offset") {
		t.Fatalf("Open with a damaged frame = %v; want the damage named", err)
	}
	if size, _ := mem.Size(ctx); size != stored {
		t.Errorf("the refused Open stored %d records; want the %d stored before", size, stored)
	}
	if _, _, err := audit.Unstored(dir, stored); !errors.As(err, &d) || !strings.Contains(err.Error(), "acknowledged and not stored") {
		t.Errorf("Unstored (what audit verify reads) = %v; want the damage, its records not stored", err)
	}
	// A store that holds the records already (a running hub stores them as the journal
	// keeps them): the damage is worded so, not as a loss (#16).
	if _, _, err := audit.Unstored(dir, 28); !errors.As(err, &d) || strings.Contains(err.Error(), "concerned, acknowledged and not stored") || !strings.Contains(err.Error(), "the store holds them to record 28") {
		t.Errorf("Unstored with the records stored = %v; want the damage, the records the store holds said so", err)
	}
}

// A write cut short at the journal's end is ignored (never acknowledged), but named:
// audit verify reports it (#16).
func TestJournalTornEnd(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "13.seg"), []byte{200, 0, 0, 0, 1, 2, 3}, 0o600); err != nil {
		t.Fatal(err)
	}
	torn, err := audit.JournalTorn(dir)
	if err != nil || torn.Bytes != 7 || torn.Offset != 0 || torn.Segment != filepath.Join(dir, "13.seg") {
		t.Errorf("JournalTorn = %+v, %v; want 7 bytes at offset 0 of 13.seg", torn, err)
	}
}

// TestJournalOldFormat: a journal left by a version whose frames had no header
// checksum (acknowledged records waiting while the store failed, and a write cut
// short) is read once when the new version opens: its records are stored and the
// journal cleared. A damaged old frame still stops the log.
func TestJournalOldFormat(t *testing.T) {
	ctx := context.Background()
	sign, _ := audittest.Signer(t, 1)
	for _, damaged := range []bool{false, true} {
		mem, _ := newMemStore(t)
		s := &failingStore{Store: mem}
		dir := t.TempDir()
		l := audittest.OpenLog(t, s, audit.Config{Journal: dir})
		audittest.Append(t, l, 0, 3, nil)
		s.hold()
		for i := 3; i < 28; i++ {
			if _, err := l.Append(ctx, audittest.Record(i)); err != nil {
				t.Fatalf("Append %d while the store fails: %v", i, err)
			}
		}
		s.release()
		l.Close(ctx)
		segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
		if len(segs) != 1 {
			t.Fatalf("journal segments: %v; want one", segs)
		}
		data, _ := os.ReadFile(segs[0])
		old := oldFrames(t, data)
		if damaged {
			old[len(old)-3] ^= 0x10 // the last frame's payload
		}
		old = append(old, 200, 0, 0, 0, 1, 2, 3) // a write cut short
		os.WriteFile(segs[0], old, 0o600)
		s.set(false)
		l, err := audit.Open(ctx, s, sign, audit.Config{Journal: dir})
		var d *audit.JournalDamage
		switch {
		case damaged && (!errors.As(err, &d) || !strings.Contains(err.Error(), "older frame format")):
			t.Errorf("Open with a damaged old frame = %v; want the damage named", err)
		case damaged:
		case err != nil:
			t.Fatalf("Open with an old journal: %v", err)
		default:
			if size, _ := mem.Size(ctx); size != 28 {
				t.Errorf("the old journal's records stored: the store holds %d; want 28", size)
			}
			if first, last, err := audit.Unstored(dir, 0); err != nil || last != 0 {
				t.Errorf("the journal after it was read once holds %d to %d (%v); want nothing", first, last, err)
			}
			l.Close(ctx)
			audittest.MustVerify(t, s)
		}
	}
}

// oldFrames rewrites a segment's frames in the format of versions before 2026-12-07:
// length and payload checksum, no header checksum.
func oldFrames(t *testing.T, data []byte) []byte {
	var out []byte
	for off := 0; off < len(data); {
		n := int(binary.LittleEndian.Uint32(data[off:]))
		out = append(out, data[off:off+8]...)
		out = append(out, data[off+12:off+12+n]...)
		off += 12 + n
	}
	if len(out) == len(data) {
		t.Fatal("no frame rewritten")
	}
	return out
}

// The damage's wording follows what the store holds: records it holds are not lost.
func TestJournalDamageWording(t *testing.T) {
	for _, tt := range []struct {
		d    audit.JournalDamage
		want string
	}{
		{audit.JournalDamage{First: 4, Last: 9, Stored: 3}, "records 4 to 9 concerned, acknowledged and not stored"},
		{audit.JournalDamage{First: 4, Last: 9, Stored: 12}, "records 4 to 9 concerned, already in the store (it holds records to 12)"},
		{audit.JournalDamage{First: 4, Last: 9, Stored: 6}, "the store holds them to record 6; any after it were acknowledged and not stored"},
	} {
		if got := tt.d.Error(); !strings.Contains(got, tt.want) {
			t.Errorf("%+v.Error() = %q; want %q in it", tt.d, got, tt.want)
		}
	}
}
