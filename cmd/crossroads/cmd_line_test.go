package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// TestAuditProveVerifyLine: prove-line --line N and verify-line name an answer by the
// same number, the line of the request body it answers (its "line" member), not its
// place among the answers: here body lines 2, 3 and 5 (a header line 1, a blank line 4)
// are answers 1, 2 and 3.
func TestAuditProveVerifyLine(t *testing.T) {
	ctx := context.Background()
	_, vkey := audittest.Signer(t, 1)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
	db, err := sqlstore.Open(ctx, dsn, sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := audittest.OpenLog(t, db.Audit(), audit.Config{})
	audittest.Append(t, l, 0, 3, nil)
	body := []int{2, 3, 5}
	var hashed []string
	var leaves [][32]byte
	var persons []string
	for i, n := range body {
		p := audittest.Person(100 + i)
		persons = append(persons, p)
		h := fmt.Sprintf(`{"line":%d,"person":%q,"status":"answered","salt":"%02x"}`, n, p, i)
		hashed = append(hashed, h)
		leaves = append(leaves, audit.LineHash([]byte(h)))
	}
	root := audit.LinesRoot(leaves)
	rec := audittest.Record(9, persons...)
	rec.Lines, rec.ResponseHash = len(body), hex.EncodeToString(root[:])
	seq, err := l.Append(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	var answers strings.Builder
	for _, h := range hashed {
		fmt.Fprintf(&answers, "%s,\"audit\":%d}\n", strings.TrimSuffix(h, "}"), seq)
	}
	ev, err := l.Evidence(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	evJSON, _ := json.Marshal(ev)
	served, _ := json.Marshal(map[string]any{"verifier_keys": l.KeyHistory([]string{vkey})})
	cpFile := writeFile(t, "checkpoint.json", string(served))
	answersFile := writeFile(t, "answers.jsonl", answers.String())
	evFile := writeFile(t, "ev.json", string(evJSON))

	for i, n := range body {
		out := filepath.Join(t.TempDir(), "line.json")
		if _, _, err := cli(t, "", "audit", "prove-line", answersFile, "--line", fmt.Sprint(n), "--evidence", evFile, "--out", out); err != nil {
			t.Fatalf("audit prove-line --line %d: %v", n, err)
		}
		got, _, err := cli(t, "", "audit", "verify-line", out, "--verifier-key", vkey)
		want := fmt.Sprintf("the answer to line %d of the request body, about %s, is answer %d of the 3 recorded in record %d", n, persons[i], i+1, seq)
		if err != nil || !strings.Contains(got, want) {
			t.Errorf("audit verify-line (proved with --line %d) = %q, %v; want %q", n, got, err, want)
		}
		if got, _, err := cli(t, "", "audit", "verify-line", out, "--checkpoint", cpFile, "--line", fmt.Sprint(n)); err != nil || !strings.Contains(got, "line evidence OK") {
			t.Errorf("audit verify-line --checkpoint (the key history) --line %d on its own evidence = %q, %v", n, got, err)
		}
		other := body[(i+1)%len(body)]
		if got, _, err := cli(t, "", "audit", "verify-line", out, "--verifier-key", vkey, "--line", fmt.Sprint(other)); code(err) != 1 ||
			!strings.Contains(got, fmt.Sprintf("of the answer to line %d of the request body, not line %d", n, other)) {
			t.Errorf("audit verify-line --line %d on the evidence of line %d = %q, %v; want INVALID", other, n, got, err)
		}
	}
	// Line 4 was blank and line 1 a header: no answer; neither is a place among the answers.
	for _, n := range []int{1, 4} {
		if _, _, err := cli(t, "", "audit", "prove-line", answersFile, "--line", fmt.Sprint(n), "--evidence", evFile); err == nil ||
			!strings.Contains(err.Error(), fmt.Sprintf("no answer to line %d of the request body", n)) {
			t.Errorf("audit prove-line --line %d = %v; want no answer to that line", n, err)
		}
	}
}

// TestAuditVerifyEvidenceKeyHistory: verify-evidence --checkpoint (GET
// /audit/checkpoint's answer, saved) verifies evidence signed before a rotation with the
// key of its period, where the key that signs now refuses it; neither option: an error.
func TestAuditVerifyEvidenceKeyHistory(t *testing.T) {
	ctx := context.Background()
	signA, keyA := audittest.Signer(t, 1)
	signB, keyB := audittest.Signer(t, 2)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
	db, err := sqlstore.Open(ctx, dsn, sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	open := func(sign audit.SignerFunc) *audit.Log {
		l, err := audit.Open(ctx, db.Audit(), sign, audit.Config{CheckpointEvery: 1 << 40})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := open(signA)
	audittest.Append(t, l, 0, 4, nil)
	ev, err := l.Evidence(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	l.Close(ctx)
	l = open(signB) // rotated
	audittest.Append(t, l, 4, 9, nil)
	if _, err := l.CheckpointNow(ctx); err != nil {
		t.Fatal(err)
	}
	served, _ := json.Marshal(map[string]any{"verifier_key": keyB, "verifier_keys": l.KeyHistory([]string{keyA, keyB})})
	l.Close(ctx)
	evJSON, _ := json.Marshal(ev)
	evFile, cpFile := writeFile(t, "ev.json", string(evJSON)), writeFile(t, "checkpoint.json", string(served))

	if out, _, err := cli(t, "", "audit", "verify-evidence", evFile, "--checkpoint", cpFile); err != nil || !strings.Contains(out, "evidence OK: record 2") {
		t.Errorf("verify-evidence --checkpoint (the key history) = %q, %v; want OK", out, err)
	}
	if out, _, err := cli(t, "", "audit", "verify-evidence", evFile, "--verifier-key", keyB); code(err) != 1 || !strings.Contains(out, "INVALID") {
		t.Errorf("verify-evidence --verifier-key (the new key only) = %q, %v; want INVALID", out, err)
	}
	if _, _, err := cli(t, "", "audit", "verify-evidence", evFile); err == nil || !strings.Contains(err.Error(), "--checkpoint") {
		t.Errorf("verify-evidence without keys = %v; want an error naming --checkpoint", err)
	}
}
