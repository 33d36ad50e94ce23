package audit

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestWithSeq checks that splicing the seq into a seqless encoding gives the bytes
// json.Marshal gives with the seq set: the canonical encoding.
func TestWithSeq(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := Record{
			Time:    time.Unix(rapid.Int64Range(0, 1<<35).Draw(t, "time"), 0).UTC(),
			Client:  rapid.String().Draw(t, "client"),
			Persons: rapid.SliceOf(rapid.String()).Draw(t, "persons"),
			Status:  rapid.Int().Draw(t, "status"),
		}
		seq := rapid.Int64Range(1, math.MaxInt64).Draw(t, "seq")
		seqless, err := encodeSeqless(&r)
		if err != nil {
			t.Fatal(err)
		}
		r.Seq = seq
		want, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		if got := withSeq(seqless, seq); string(got) != string(want) {
			t.Fatalf("withSeq(%q, %d) = %q; want %q", seqless, seq, got, want)
		}
	})
}
