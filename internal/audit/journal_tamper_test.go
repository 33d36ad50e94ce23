package audit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// writeTestJournal writes two segments: records 1 to 6 in three frames (2, 1, 3
// records), then 7 to 9 in two (2, 1). It returns the folder and, per segment, its frames.
func writeTestJournal(t *testing.T) (string, []segmentFrames) {
	t.Helper()
	dir := t.TempDir()
	j, err := openJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	at := func(first int64) func(i int) ([]byte, []string) {
		return func(i int) ([]byte, []string) {
			return fmt.Appendf(nil, `{"seq":0,"n":%d,"text":"an exchange about a person"}`, first+int64(i)), []string{"19800101001"}
		}
	}
	for _, seg := range [][][2]int64{{{1, 2}, {3, 1}, {4, 3}}, {{7, 2}, {9, 1}}} {
		if err := j.start(seg[0][0]); err != nil {
			t.Fatal(err)
		}
		for _, f := range seg {
			if err := j.write(f[0], int(f[1]), at(f[0])); err != nil {
				t.Fatal(err)
			}
		}
	}
	segs, _ := listSegments(dir)
	var out []segmentFrames
	for _, s := range segs {
		data, _ := os.ReadFile(s.path)
		batches, end := decodeFrames(data)
		if end.at != -1 {
			t.Fatalf("segment %s does not read whole: %+v", s.path, end)
		}
		sf := segmentFrames{path: s.path, size: len(data)}
		for i, b := range batches {
			sf.frames = append(sf.frames, frameAt{off: end.offsets[i], first: b.first, last: b.first + int64(len(b.records)) - 1})
		}
		out = append(out, sf)
	}
	return dir, out
}

type segmentFrames struct {
	path   string
	size   int
	frames []frameAt
}

type frameAt struct {
	off         int
	first, last int64
}

// frameOfByte returns the frame that holds byte i.
func (s segmentFrames) frameOfByte(i int) frameAt {
	f := s.frames[0]
	for _, g := range s.frames {
		if g.off <= i {
			f = g
		}
	}
	return f
}

// TestJournalTamperEveryByte flips every byte of every segment, three ways: every
// change is damage (never read as a torn write), named with its segment, the offset
// of its frame, and records that include the frame's.
func TestJournalTamperEveryByte(t *testing.T) {
	dir, segs := writeTestJournal(t)
	if batches, torn, err := readJournal(dir); err != nil || torn.Bytes != 0 || len(batches) != 5 {
		t.Fatalf("readJournal of the intact journal = %d batches, torn %+v, %v", len(batches), torn, err)
	}
	tried, detected := 0, 0
	for _, s := range segs {
		orig, err := os.ReadFile(s.path)
		if err != nil {
			t.Fatal(err)
		}
		for i := range orig {
			f := s.frameOfByte(i)
			for _, mask := range []byte{0x01, 0x80, 0xff} {
				bad := append([]byte(nil), orig...)
				bad[i] ^= mask
				if err := os.WriteFile(s.path, bad, 0o600); err != nil {
					t.Fatal(err)
				}
				tried++
				batches, torn, err := readJournal(dir)
				var d *JournalDamage
				switch {
				case !errors.As(err, &d):
					t.Errorf("%s byte %d ^ %#x: readJournal = %d batches, torn %+v, %v; want damage", filepath.Base(s.path), i, mask, len(batches), torn, err)
				case d.Segment != s.path || d.Offset != int64(f.off) || d.First > f.first || d.Last != 0 && d.Last < f.last:
					t.Errorf("%s byte %d ^ %#x: damage %+v; want segment %s, offset %d, records %d to %d included", filepath.Base(s.path), i, mask, d, s.path, f.off, f.first, f.last)
				default:
					detected++
				}
			}
		}
		if err := os.WriteFile(s.path, orig, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("flipped bytes detected as damage: %d of %d (%.0f %%)", detected, tried, 100*float64(detected)/float64(tried))
}

// TestJournalTornOnlyAtTheEnd cuts the journal at every byte of its last frame (a torn
// write: the records before it read, those of the frame ignored), adds zeros after it
// (a file extended before its data reached the disk), and cuts a segment that is not
// the last (damage: its records cannot have been a write in progress).
func TestJournalTornOnlyAtTheEnd(t *testing.T) {
	dir, segs := writeTestJournal(t)
	last := segs[len(segs)-1]
	orig, _ := os.ReadFile(last.path)
	lastFrame := last.frames[len(last.frames)-1]
	for cut := lastFrame.off + 1; cut < len(orig); cut++ {
		os.WriteFile(last.path, orig[:cut], 0o600)
		batches, torn, err := readJournal(dir)
		if err != nil || torn.Bytes != cut-lastFrame.off || len(batches) != 4 {
			t.Errorf("last segment cut at %d: %d batches, torn %+v, %v; want 4 batches and %d bytes torn", cut, len(batches), torn, err, cut-lastFrame.off)
		}
	}
	os.WriteFile(last.path, append(append([]byte(nil), orig...), make([]byte, 100)...), 0o600)
	if batches, torn, err := readJournal(dir); err != nil || torn.Bytes != 100 || len(batches) != 5 {
		t.Errorf("last segment followed by zeros: %d batches, torn %+v, %v; want 5 batches, 100 bytes torn", len(batches), torn, err)
	}
	os.WriteFile(last.path, orig, 0o600)

	first := segs[0]
	orig, _ = os.ReadFile(first.path)
	for _, cut := range []int{first.frames[1].off + 5, first.frames[2].off + headerSize + 3, len(orig) - 1} {
		os.WriteFile(first.path, orig[:cut], 0o600)
		_, _, err := readJournal(dir)
		var d *JournalDamage
		if !errors.As(err, &d) || d.Segment != first.path || d.Last != 6 {
			t.Errorf("first segment cut at %d: %v; want damage in it up to record 6", cut, err)
		}
	}
	os.WriteFile(first.path, orig, 0o600)
	os.Rename(first.path, filepath.Join(dir, fmt.Sprintf("%020d.seg", 2)))
	if _, _, err := readJournal(dir); err == nil {
		t.Errorf("a segment renamed for another record read without damage")
	}
}

func TestParseDurability(t *testing.T) {
	for in, want := range map[string]Durability{"": ProcessCrash, "process": ProcessCrash, "power": PowerLoss} {
		if got, err := ParseDurability(in); err != nil || got != want {
			t.Errorf("ParseDurability(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"Power", "fsync", "power "} {
		if _, err := ParseDurability(in); err == nil {
			t.Errorf("ParseDurability(%q) succeeded", in)
		}
	}
}

// TestJournalPowerLoss runs a log whose journal syncs every frame: the same records,
// the same recovery.
func TestJournalPowerLoss(t *testing.T) {
	dir := t.TempDir()
	j, err := openJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	j.sync = true
	at := func(i int) ([]byte, []string) { return []byte(`{"seq":0}`), nil }
	for first := int64(1); first <= 10; first += 2 {
		if err := j.write(first, 2, at); err != nil {
			t.Fatal(err)
		}
	}
	j.close()
	if batches, torn, err := readJournal(dir); err != nil || torn.Bytes != 0 || len(batches) != 5 {
		t.Errorf("readJournal = %d batches, torn %+v, %v; want 5", len(batches), torn, err)
	}
}
