package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
)

// FuzzVerifyEvidence feeds VerifyEvidence arbitrary JSON: it must never panic, and must
// accept nothing but the genuine evidence of a record, however it is spelled.
func FuzzVerifyEvidence(f *testing.F) {
	ctx := context.Background()
	s, _ := newMemStore(nil)
	l := audittest.OpenLog(f, s, audit.Config{})
	audittest.Append(f, l, 0, 7, func(i int) []string { return []string{audittest.Person(i)} })
	_, vkey := audittest.Signer(f, 1)
	genuine := map[int64]audit.Evidence{}
	for seq := int64(1); seq <= 7; seq++ {
		ev, err := l.Evidence(ctx, seq)
		if err != nil {
			f.Fatal(err)
		}
		genuine[seq] = ev
		b, _ := json.Marshal(ev)
		f.Add(b)
		f.Add(bytes.Replace(b, []byte(`"seq":`+string(rune('0'+seq))), []byte(`"seq":3`), 1))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"seq":-1,"record":"","proof":[],"checkpoint":"\n\n"}`))
	f.Add([]byte(`{"seq":9223372036854775807,"proof":["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="],"checkpoint":"crossroads audit log\n9223372036854775807\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— x AAAA\n"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev audit.Evidence
		if json.Unmarshal(data, &ev) != nil {
			return
		}
		r, err := audit.VerifyEvidence(ev, vkey)
		if err != nil {
			return
		}
		g, ok := genuine[ev.Seq]
		if !ok || r.Seq != ev.Seq || !bytes.Equal(ev.Record, g.Record) || !slices.Equal(ev.Proof, g.Proof) ||
			text(ev.Checkpoint) != text(g.Checkpoint) {
			t.Fatalf("VerifyEvidence accepted evidence that is not genuine: %s", data)
		}
	})
}

// text is the signed text of a note, without its signatures.
func text(msg string) string {
	i := strings.LastIndex(msg, "\n\n")
	if i < 0 {
		return msg
	}
	return msg[:i+1]
}
