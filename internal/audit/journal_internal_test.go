package audit

import (
	"reflect"
	"strconv"
	"testing"
)

func frameOf(b journaled) []byte {
	return appendFrame(nil, b.first, len(b.records), func(i int) ([]byte, []string) { return b.records[i].body, b.records[i].persons })
}

// FuzzJournalFrames checks that reading a journal segment (in either frame format) never fails on hostile bytes,
// stops at the first damaged frame, and that what it reads encodes back to frames that
// read the same.
func FuzzJournalFrames(f *testing.F) {
	one := frameOf(journaled{first: 7, records: []pending{{body: []byte(`{"seq":0}`), persons: []string{"19800101001", "x"}}, {body: []byte("{}")}}})
	two := frameOf(journaled{first: 9, records: []pending{{body: []byte(`{"a":"b"}`), persons: []string{"p"}}}})
	f.Add(one)
	f.Add(append(append([]byte{}, one...), two...))
	f.Add(append(append([]byte{}, one...), two[:len(two)-3]...))
	f.Add([]byte{})
	f.Add([]byte{255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(append(append([]byte{}, one...), make([]byte, 20)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		batches, end := decodeFrames(data)
		if end.at >= len(data) || end.at < -1 || end.damage != "" && end.at < 0 || len(end.offsets) != len(batches) {
			t.Fatalf("stopped at %d of %d bytes (%q) after %d frames at %v", end.at, len(data), end.damage, len(batches), end.offsets)
		}
		var re []byte
		for _, b := range batches {
			if b.first < 1 || len(b.records) == 0 {
				t.Fatalf("read a batch at %d with %d records", b.first, len(b.records))
			}
			re = append(re, frameOf(b)...)
		}
		again, end := decodeFrames(re)
		if end.at != -1 || !reflect.DeepEqual(again, batches) {
			t.Fatalf("re-encoded frames read back as %+v (stopped at %d); want %+v", again, end.at, batches)
		}
		old, oend := decodeOldFrames(data) // the older format, read once at an upgrade
		if oend.at >= len(data) || oend.at < -1 || oend.damage != "" && oend.at < 0 || len(oend.offsets) != len(old) {
			t.Fatalf("older format: stopped at %d of %d bytes (%q) after %d frames at %v", oend.at, len(data), oend.damage, len(old), oend.offsets)
		}
	})
}

// TestJournalWriteFails checks a write that fails and cannot be cut back: the segment
// ends there, the next write starts another, and the journal reads back whole.
func TestJournalWriteFails(t *testing.T) {
	dir := t.TempDir()
	j, err := openJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	at := func(i int) ([]byte, []string) { return []byte(`{"n":` + strconv.Itoa(i) + `}`), []string{"p"} }
	if err := j.write(1, 2, at); err != nil {
		t.Fatal(err)
	}
	j.seg.Close() // the file is gone from under the writer: writing and truncating fail
	if err := j.write(3, 1, at); err == nil {
		t.Fatal("a write to a closed segment succeeded")
	}
	if err := j.write(3, 1, at); err != nil { // the writer's next batch takes seq 3 again
		t.Fatalf("the write after a failed one: %v", err)
	}
	batches, _, err := readJournal(dir)
	if err != nil || len(batches) != 2 || batches[0].first != 1 || len(batches[0].records) != 2 || batches[1].first != 3 {
		t.Fatalf("readJournal = %+v, %v; want batches at 1 (2 records) and 3", batches, err)
	}
	if err := j.stored(2); err != nil {
		t.Fatal(err)
	}
	segs, _ := listSegments(dir)
	if len(segs) != 1 || segs[0].first != 3 {
		t.Errorf("segments once records 1 and 2 are stored: %+v; want the one from 3", segs)
	}
}
