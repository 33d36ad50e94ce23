package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
	"github.com/crossroads-hub/crossroads/internal/witness"
)

// auditStore writes a log of n records into a new SQLite store with a checkpoint at
// each size of at and returns the store's DSN and the checkpoints' notes.
func auditStore(t *testing.T, first int, at ...int) (string, []string) {
	t.Helper()
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
	db, err := sqlstore.Open(ctx, dsn, sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := audittest.OpenLog(t, db.Audit(), audit.Config{Journal: hub.AuditJournal(dsn), Published: hub.AuditPublished(dsn, "")})
	var notes []string
	lo := first
	for _, size := range at {
		audittest.Append(t, l, lo, first+size, nil)
		lo = first + size
		cp, err := l.CheckpointNow(ctx)
		if err != nil {
			t.Fatal(err)
		}
		notes = append(notes, cp.Note)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return dsn, notes
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAuditVerifyConsistency(t *testing.T) {
	_, vkey := audittest.Signer(t, 1)
	dsn, notes := auditStore(t, 0, 5, 12, 30)
	_, forked := auditStore(t, 1000, 5, 12) // another log, the same key: a fork
	old := writeFile(t, "old.txt", notes[0])
	oldJSON, _ := json.Marshal(map[string]any{"checkpoint": map[string]any{"size": 5, "note": notes[0]}, "verifier_key": vkey})
	oldAsServed := writeFile(t, "old.json", string(oldJSON))
	mid := writeFile(t, "mid.txt", notes[1])
	fork := writeFile(t, "fork.txt", forked[1])

	db, err := sqlstore.Open(context.Background(), dsn, sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hubSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		from, _ := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
		to, _ := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
		if to == 0 {
			to = 30
		}
		c, err := audit.ProveConsistency(r.Context(), db.Audit(), from, to)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(c)
	}))
	defer hubSrv.Close()
	c, err := audit.ProveConsistency(context.Background(), db.Audit(), 5, 12)
	if err != nil {
		t.Fatal(err)
	}
	proofJSON, _ := json.Marshal(c)
	proof := writeFile(t, "proof.json", string(proofJSON))

	for _, tc := range []struct {
		name string
		args []string
		want string
		code int
	}{
		{"store, to the latest", []string{old, "--store", dsn}, "size 30 extends the one at size 5", 0},
		{"store, two checkpoints", []string{old, mid, "--store", dsn}, "size 12 extends the one at size 5", 0},
		{"hub", []string{oldAsServed, "--hub", hubSrv.URL}, "size 30 extends the one at size 5", 0},
		{"hub, two checkpoints", []string{old, mid, "--hub", hubSrv.URL}, "size 12 extends", 0},
		{"proof file, offline", []string{old, "--proof", proof}, "size 12 extends", 0},
		{"a fork", []string{old, fork, "--proof", proof}, "INCONSISTENT", 1},
		{"a rollback", []string{mid, old, "--proof", proof}, "rolled back", 1},
		{"same size, another log", []string{mid, fork}, "rewritten", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := cli(t, "", append([]string{"audit", "verify-consistency", "--verifier-key", vkey}, tc.args...)...)
			if code(err) != tc.code || !strings.Contains(out, tc.want) || tc.code == 0 && err != nil {
				t.Errorf("verify-consistency %v = %q, %v; want %q, exit %d", tc.args, out, err, tc.want, tc.code)
			}
		})
	}
	_, other := audittest.Signer(t, 2)
	if _, _, err := cli(t, "", "audit", "verify-consistency", "--verifier-key", other, old, "--store", dsn); err == nil || code(err) != 0 && !strings.Contains(err.Error(), "known key") {
		t.Errorf("verify-consistency with another key = %v; want the older checkpoint refused", err)
	}
	if _, _, err := cli(t, "", "audit", "verify-consistency", "--verifier-key", vkey, old); err == nil {
		t.Errorf("verify-consistency without a proof succeeded")
	}
}

// TestAuditVerifyShorterLog deletes the whole log: the store alone verifies (it is
// empty), the checkpoint the hub remembered outside it does not.
func TestAuditVerifyShorterLog(t *testing.T) {
	_, vkey := audittest.Signer(t, 1)
	dsn, _ := auditStore(t, 0, 5, 12)
	out, _, err := cli(t, "", "audit", "verify", "--store", dsn, "--keys", "", "--verifier-key", vkey)
	if err != nil || !strings.Contains(out, "audit log OK: 12 records") || !strings.Contains(out, "published at size 12") {
		t.Fatalf("audit verify = %q, %v", out, err)
	}
	path := strings.TrimPrefix(dsn, "sqlite:")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	out, _, err = cli(t, "", "audit", "verify", "--store", dsn, "--keys", "", "--verifier-key", vkey)
	if code(err) != 1 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, "records 1 to 12 are missing") {
		t.Errorf("audit verify of a deleted log = %q, %v; want BROKEN naming records 1 to 12", out, err)
	}
}

// TestAuditVerifyCosigned: audit verify names the checkpoints witnesses cosigned, and a
// store shorter than one of them is BROKEN, naming the witness, even with the published
// checkpoint's file gone.
func TestAuditVerifyCosigned(t *testing.T) {
	ctx := context.Background()
	_, vkey := audittest.Signer(t, 1)
	dsn, _ := auditStore(t, 0, 5, 12)
	w, err := witness.Open(t.TempDir(), "dpa.example", []string{vkey})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(ctx, dsn, sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	published := hub.AuditPublished(dsn, "")
	l := audittest.OpenLog(t, db.Audit(), audit.Config{Journal: hub.AuditJournal(dsn), Published: published, Witnesses: []string{w.VerifierKey()}})
	cosigned, err := w.Observe(ctx, logSource{l})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.AddCosignature(ctx, cosigned); err != nil {
		t.Fatal(err)
	}
	l.Close(ctx)
	db.Close()
	out, _, err := cli(t, "", "audit", "verify", "--store", dsn, "--keys", "", "--verifier-key", vkey)
	if err != nil || !strings.Contains(out, "the witness dpa.example cosigned at size 12") {
		t.Fatalf("audit verify = %q, %v; want the witness's checkpoint named", out, err)
	}
	path := strings.TrimPrefix(dsn, "sqlite:")
	for _, p := range []string{path, path + "-wal", path + "-shm", published} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	out, _, err = cli(t, "", "audit", "verify", "--store", dsn, "--keys", "", "--verifier-key", vkey)
	if code(err) != 1 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, "cosigned by the witness dpa.example") || !strings.Contains(out, "records 1 to 12 are missing") {
		t.Errorf("audit verify of a deleted log = %q, %v; want BROKEN naming the witness and records 1 to 12", out, err)
	}
}

// logSource is a log as a witness reads it.
type logSource struct{ l *audit.Log }

func (s logSource) Checkpoint(ctx context.Context) (string, error) {
	cp, err := s.l.Checkpoint(ctx)
	return cp.Note, err
}

func (s logSource) Consistency(ctx context.Context, from, to int64) (audit.Consistency, error) {
	return s.l.Consistency(ctx, from, to)
}
