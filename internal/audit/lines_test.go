package audit

import (
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TestLinesTree: every line of chunks of 1 to 40 lines is proved against LinesRoot by
// tlog's own check, and only at its own place.
func TestLinesTree(t *testing.T) {
	for n := 1; n <= 40; n++ {
		lines := make([][]byte, n)
		leaves := make([][32]byte, n)
		for i := range lines {
			lines[i] = fmt.Appendf(nil, `{"line":%d,"person":"p%d","salt":"s%d","audit":7}`+"\n", i+2, i, i)
			hashed, seq, err := HashedLine(lines[i])
			if err != nil || seq != 7 || string(hashed) != fmt.Sprintf(`{"line":%d,"person":"p%d","salt":"s%d"}`, i+2, i, i) {
				t.Fatalf("HashedLine(%s) = %s, %d, %v", lines[i], hashed, seq, err)
			}
			leaves[i] = LineHash(hashed)
		}
		root := LinesRoot(leaves)
		hs := make([]tlog.Hash, n)
		for i := range leaves {
			hs[i] = leaves[i]
		}
		if want, err := tlog.TreeHash(int64(n), storedLines(hs)); err != nil || root != want {
			t.Fatalf("n=%d: LinesRoot = %x; tlog.TreeHash: %x, %v", n, root, want, err)
		}
		for i := range lines {
			lp, err := ProveLine(lines, i)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckRecord(lp.Proof, int64(n), root, int64(i), leaves[i]); err != nil {
				t.Errorf("n=%d: line %d does not check against the root: %v", n, i, err)
			}
			if other := (i + 1) % n; other != i && tlog.CheckRecord(lp.Proof, int64(n), root, int64(other), leaves[i]) == nil {
				t.Errorf("n=%d: line %d checks at place %d too", n, i, other)
			}
		}
	}
}

func TestHashedLineRefuses(t *testing.T) {
	for _, line := range []string{``, `{}`, `{"audit":7}`, `{"a":1,"audit":0}`, `{"a":1,"audit":x}`, `{"a":1,"audit":7`,
		`{"a":1,"b":{"audit":7}}`, `{"a":,"audit":7}`, `{"a":1,"audit":7}x`, `{"a":1,"audit":+7}`, `{"a":1,"audit":07}`} {
		if h, seq, err := HashedLine([]byte(line)); err == nil {
			t.Errorf("HashedLine(%s) = %s, %d; want an error", line, h, seq)
		}
	}
}

// FuzzHashedLine: a line is either refused or split into a JSON object and a seq that
// give the line back.
func FuzzHashedLine(f *testing.F) {
	f.Add([]byte(`{"line":2,"person":"p","salt":"s","audit":7}`))
	f.Add([]byte(`{"record":{"audit":1},"audit":12}` + "\r\n"))
	f.Fuzz(func(t *testing.T, line []byte) {
		hashed, seq, err := HashedLine(line)
		if err != nil {
			return
		}
		if back := fmt.Sprintf(`%s,"audit":%d}`, hashed[:len(hashed)-1], seq); back != string(trimLine(line)) || seq < 1 {
			t.Fatalf("HashedLine(%q) = %q, %d: they do not give the line back", line, hashed, seq)
		}
	})
}

func trimLine(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
