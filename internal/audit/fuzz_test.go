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

// FuzzVerifyEvidenceKeys: with a key history from outside (GET /audit/checkpoint's
// verifier_keys, saved), VerifyEvidenceKeys accepts genuine evidence only, and only when
// a period of the history that holds its checkpoint's size names the key that signed it.
func FuzzVerifyEvidenceKeys(f *testing.F) {
	ctx := context.Background()
	s, _ := newMemStore(nil)
	l := audittest.OpenLog(f, s, audit.Config{})
	audittest.Append(f, l, 0, 5, nil)
	_, vkey := audittest.Signer(f, 1)
	_, other := audittest.Signer(f, 2)
	genuine := map[int64]audit.Evidence{}
	for seq := int64(1); seq <= 5; seq++ {
		ev, err := l.Evidence(ctx, seq)
		if err != nil {
			f.Fatal(err)
		}
		genuine[seq] = ev
		b, _ := json.Marshal(ev)
		for _, keys := range []string{
			`[{"key":"` + vkey + `","first_size":1}]`,
			`[{"key":"` + vkey + `","first_size":1,"last_size":4},{"key":"` + other + `","first_size":5}]`,
			`[{"key":"` + other + `","first_size":0}]`,
			`[{"key":"not a key","first_size":-1,"last_size":-2}]`,
		} {
			f.Add(b, []byte(keys))
		}
	}
	f.Fuzz(func(t *testing.T, evData, keysData []byte) {
		var ev audit.Evidence
		var keys []audit.KeyPeriod
		if json.Unmarshal(evData, &ev) != nil || json.Unmarshal(keysData, &keys) != nil {
			return
		}
		r, err := audit.VerifyEvidenceKeys(ev, keys)
		if err != nil {
			return
		}
		g, ok := genuine[ev.Seq]
		if !ok || r.Seq != ev.Seq || !bytes.Equal(ev.Record, g.Record) || text(ev.Checkpoint) != text(g.Checkpoint) {
			t.Fatalf("VerifyEvidenceKeys accepted evidence that is not genuine: %s with %s", evData, keysData)
		}
		held := false
		for _, k := range keys {
			held = held || k.Key == vkey && k.Holds(5)
		}
		if !held {
			t.Fatalf("VerifyEvidenceKeys accepted a checkpoint at 5 with no period of its key holding 5: %s", keysData)
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
