package audit

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// A batch consultation is recorded a chunk at a time: one record names every person of
// the chunk, and its response hash is the Merkle root of the chunk's answer lines (the
// record's Lines says how many), a tree built as the log's own (RFC 6962, sumdb/tlog).
// One line can then be proved to be the answer the hub recorded — its evidence is the
// record's evidence, the line, and the path from the line's leaf to the root — without
// showing any other line: the path holds hashes only, and each line carries a salt of
// its own, so a hash cannot be confirmed by guessing a neighbour's data.
//
// A line's leaf is LineHash of its hashed form: the line as sent, without its newline
// and without its last member, "audit" (the record's seq, known only once the record is
// written), e.g. {"line":2,"person":"…","status":200,"record":{…},"salt":"…"} for the
// line {"line":2,…,"salt":"…","audit":17}.

// LineHash is the Merkle leaf of a line's hashed form: SHA-256(0x00 || hashed).
func LineHash(hashed []byte) [32]byte { return tlog.RecordHash(hashed) }

// LinesRoot returns the Merkle root of leaves, in order; the zero hash when there are none.
func LinesRoot(leaves [][32]byte) [32]byte {
	if len(leaves) == 0 {
		return [32]byte{}
	}
	return merkleRoot(leaves)
}

// merkleRoot is RFC 6962's MTH over leaf hashes, as tlog.TreeHash computes it from
// stored hashes (TestLinesTree holds them to each other): the left subtree the largest
// power of two below n.
func merkleRoot(leaves [][32]byte) tlog.Hash {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	return tlog.NodeHash(merkleRoot(leaves[:k]), merkleRoot(leaves[k:]))
}

// storedLines builds the tree of leaves as tlog stores it, in memory.
func storedLines(leaves []tlog.Hash) tlog.HashReaderFunc {
	var stored []tlog.Hash
	r := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x < 0 || x >= int64(len(stored)) {
				return nil, fmt.Errorf("stored hash %d is missing", x)
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, h := range leaves {
		hs, err := tlog.StoredHashesForRecordHash(int64(i), h, r)
		if err != nil { // cannot happen: the hashes are stored in order
			panic(err)
		}
		stored = append(stored, hs...)
	}
	return r
}

// LineProof is what proves one line of a chunk besides the chunk record's Evidence.
type LineProof struct {
	Index int64            `json:"index"` // the line's place among the chunk's lines, from 0
	Proof tlog.RecordProof `json:"proof"` // from the line's leaf to the record's response hash
	Line  string           `json:"line"`  // the line as sent, its "audit" member included: its exact bytes, so a string
}

// HashedLine returns the hashed form of a line as sent (its newline and its last member,
// "audit", left out) and the record seq that member names.
func HashedLine(line []byte) (hashed []byte, seq int64, err error) {
	line = bytes.TrimRight(line, "\r\n")
	const member = `,"audit":`
	i := bytes.LastIndex(line, []byte(member))
	if i < 0 || len(line) < 2 || line[len(line)-1] != '}' {
		return nil, 0, fmt.Errorf("the line does not end with its audit member")
	}
	digits := line[i+len(member) : len(line)-1]
	seq, err = strconv.ParseInt(string(digits), 10, 64)
	if err != nil || seq < 1 || digits[0] < '1' || digits[0] > '9' {
		return nil, 0, fmt.Errorf("the line's audit member is not a record seq")
	}
	hashed = append(append(make([]byte, 0, i+1), line[:i]...), '}')
	if !rawjson.Valid(hashed) {
		return nil, 0, fmt.Errorf("the line is not a JSON object")
	}
	return hashed, seq, nil
}

// ProveLine returns the proof of line i of a chunk from all its lines as sent (the
// institution that received them holds them).
func ProveLine(lines [][]byte, i int) (LineProof, error) {
	if i < 0 || i >= len(lines) {
		return LineProof{}, fmt.Errorf("line %d: a chunk of %d lines", i, len(lines))
	}
	leaves := make([]tlog.Hash, len(lines))
	for k, l := range lines {
		hashed, _, err := HashedLine(l)
		if err != nil {
			return LineProof{}, fmt.Errorf("line %d: %v", k, err)
		}
		leaves[k] = LineHash(hashed)
	}
	proof, err := tlog.ProveRecord(int64(len(lines)), int64(i), storedLines(leaves))
	if err != nil {
		return LineProof{}, err
	}
	return LineProof{Index: int64(i), Proof: proof, Line: string(bytes.TrimRight(lines[i], "\r\n"))}, nil
}

// VerifyLine checks offline that lp's line is a line of the chunk record ev proves (see
// VerifyEvidence), answering the person it names, and returns the record and the person.
// It needs no other line of the chunk.
func VerifyLine(ev Evidence, lp LineProof, verifierKeys ...string) (Record, string, error) {
	r, err := VerifyEvidence(ev, verifierKeys...)
	if err != nil {
		return Record{}, "", err
	}
	return lineOf(r, lp)
}

// VerifyLineKeys is VerifyLine with a key history (VerifyEvidenceKeys): the line of a
// record whose checkpoint a key signed before a rotation.
func VerifyLineKeys(ev Evidence, lp LineProof, keys []KeyPeriod) (Record, string, error) {
	r, err := VerifyEvidenceKeys(ev, keys)
	if err != nil {
		return Record{}, "", err
	}
	return lineOf(r, lp)
}

// lineOf checks that lp's line is a line of the chunk record r, which was verified, and
// returns r and the line's person.
func lineOf(r Record, lp LineProof) (Record, string, error) {
	if r.Lines < 1 {
		return Record{}, "", fmt.Errorf("record %d is not a batch chunk: it has no lines", r.Seq)
	}
	if lp.Index < 0 || lp.Index >= int64(r.Lines) {
		return Record{}, "", fmt.Errorf("line %d: record %d holds %d lines", lp.Index, r.Seq, r.Lines)
	}
	hashed, seq, err := HashedLine([]byte(lp.Line))
	if err != nil {
		return Record{}, "", err
	}
	if seq != r.Seq {
		return Record{}, "", fmt.Errorf("the line names record %d, not %d", seq, r.Seq)
	}
	var root tlog.Hash
	if b, err := hex.DecodeString(r.ResponseHash); err != nil || len(b) != len(root) {
		return Record{}, "", fmt.Errorf("record %d: its response hash is not a SHA-256", r.Seq)
	} else {
		copy(root[:], b)
	}
	if err := tlog.CheckRecord(lp.Proof, int64(r.Lines), root, lp.Index, LineHash(hashed)); err != nil {
		return Record{}, "", fmt.Errorf("line %d is not the line record %d holds there", lp.Index, r.Seq)
	}
	var person string
	if v, ok := rawjson.Member(hashed, "person"); ok {
		person, _ = rawjson.Unquote(v)
	}
	for _, p := range r.Persons {
		if p == person && person != "" {
			return r, person, nil
		}
	}
	return Record{}, "", fmt.Errorf("the line's person is not among those record %d names", r.Seq)
}
