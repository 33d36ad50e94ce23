package audit

import (
	"reflect"
	"testing"
)

func frameOf(b journaled) []byte {
	return appendFrame(nil, b.first, len(b.records), func(i int) ([]byte, []string) { return b.records[i].body, b.records[i].persons })
}

// FuzzJournalFrames checks that reading a journal segment never fails on hostile bytes,
// stops at the first damaged frame, and that what it reads encodes back to frames that
// read the same.
func FuzzJournalFrames(f *testing.F) {
	one := frameOf(journaled{first: 7, records: []pending{{body: []byte(`{"seq":0}`), persons: []string{"19800101001", "x"}}, {body: []byte("{}")}}})
	two := frameOf(journaled{first: 9, records: []pending{{body: []byte(`{"a":"b"}`), persons: []string{"p"}}}})
	f.Add(one)
	f.Add(append(append([]byte{}, one...), two...))
	f.Add(append(append([]byte{}, one...), two[:len(two)-3]...))
	f.Add([]byte{})
	f.Add([]byte{255, 255, 255, 255, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		batches, torn := decodeFrames(data)
		if torn >= len(data) || torn < -1 {
			t.Fatalf("tear at %d of %d bytes", torn, len(data))
		}
		var re []byte
		for _, b := range batches {
			if b.first < 1 || len(b.records) == 0 {
				t.Fatalf("read a batch at %d with %d records", b.first, len(b.records))
			}
			re = append(re, frameOf(b)...)
		}
		again, tear := decodeFrames(re)
		if tear != -1 || !reflect.DeepEqual(again, batches) {
			t.Fatalf("re-encoded frames read back as %+v (tear %d); want %+v", again, tear, batches)
		}
	})
}
