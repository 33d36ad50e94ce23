package main

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// TestAuditVerifyResume: audit verify remembers the last checkpoint it verified;
// --resume checks only the records after it, --from-checkpoint after a given one, and
// a record rewritten after it is still found. Without a terminal, progress is
// structured lines.
func TestAuditVerifyResume(t *testing.T) {
	ctx := context.Background()
	_, vkey := audittest.Signer(t, 1)
	dsn, notes := auditStore(t, 0, 5, 12)
	verify := func(args ...string) (string, string, error) {
		return cli(t, "", append([]string{"audit", "verify", "--store", dsn, "--keys", "", "--verifier-key", vkey}, args...)...)
	}
	out, errOut, err := verify("--resume") // nothing remembered yet: the whole log
	if err != nil || !strings.Contains(out, "audit log OK: 12 records, 2 checkpoints") || strings.Contains(out, "resumed") {
		t.Fatalf("audit verify --resume (first run) = %q, %v", out, err)
	}
	if !strings.Contains(errOut, `msg="audit verify" records=12 of=12 percent=100.0`) {
		t.Errorf("audit verify's progress without a terminal = %q; want a structured line", errOut)
	}
	// More records and a checkpoint.
	db, err := sqlstore.Open(ctx, dsn, sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	l := audittest.OpenLog(t, db.Audit(), audit.Config{Journal: hub.AuditJournal(dsn), Published: hub.AuditPublished(dsn, "")})
	audittest.Append(t, l, 12, 40, nil)
	if _, err := l.CheckpointNow(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	out, _, err = verify("--resume")
	if err != nil || !strings.Contains(out, "resumed after the checkpoint at size 12, verified before: records 13 to 40 checked") ||
		!strings.Contains(out, "audit log OK: 40 records, 1 checkpoints") {
		t.Errorf("audit verify --resume = %q, %v; want records 13 to 40 checked", out, err)
	}
	out, _, err = verify("--from-checkpoint", writeFile(t, "five.txt", notes[0]))
	if err != nil || !strings.Contains(out, "records 6 to 40 checked") || !strings.Contains(out, "2 checkpoints") {
		t.Errorf("audit verify --from-checkpoint (size 5) = %q, %v", out, err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", strings.TrimPrefix(dsn, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `UPDATE audit_records SET body = '{"seq":33}' WHERE seq = 33`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	out, _, err = verify("--from-checkpoint", writeFile(t, "five.txt", notes[0]))
	if code(err) != 1 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, "record 33") {
		t.Errorf("audit verify --from-checkpoint, record 33 rewritten = %q, %v; want BROKEN at record 33", out, err)
	}
	if _, _, err := verify("--from-checkpoint", writeFile(t, "bad.txt", "not a note")); err == nil {
		t.Errorf("audit verify --from-checkpoint (not a note) succeeded")
	}
}
