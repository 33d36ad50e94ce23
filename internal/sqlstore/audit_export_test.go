package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
)

// AuditTamperer rewrites the audit tables directly, for the tamper tests.
func (db *DB) AuditTamperer() audittest.Tamperer { return auditTamperer{db} }

type auditTamperer struct{ db *DB }

func (t auditTamperer) exec(ctx context.Context, q string, args ...any) error {
	_, err := t.db.w.ExecContext(ctx, t.db.q(q), args...)
	return err
}

func (t auditTamperer) SetRecord(ctx context.Context, seq int64, body []byte) error {
	return t.exec(ctx, `UPDATE audit_records SET body = ? WHERE seq = ?`, body, seq)
}

// SetHash rewrites the hash in the row of the record that stored it, or in audit_hashes
// for a record written before rows carried their hashes.
func (t auditTamperer) SetHash(ctx context.Context, index int64, h tlog.Hash) error {
	seq := auditHashSeq(index)
	var hashes []byte
	err := t.db.w.QueryRowContext(ctx, t.db.q(`SELECT hashes FROM audit_records WHERE seq = ?`), seq).Scan(&hashes)
	if err != nil && err != sql.ErrNoRows {
		return err
	}
	if hashes == nil {
		return t.exec(ctx, `UPDATE audit_hashes SET hash = ? WHERE idx = ?`, h[:], index)
	}
	copy(hashes[32*(index-tlog.StoredHashIndex(0, seq-1)):], h[:])
	return t.exec(ctx, `UPDATE audit_records SET hashes = ? WHERE seq = ?`, hashes, seq)
}

func (t auditTamperer) SetCheckpoint(ctx context.Context, size int64, note string) error {
	return t.exec(ctx, `UPDATE audit_checkpoints SET note = ? WHERE size = ?`, note, size)
}

func (t auditTamperer) Truncate(ctx context.Context, size int64) error {
	for _, q := range []string{
		`DELETE FROM audit_records WHERE seq > ?`,
		`DELETE FROM audit_persons WHERE seq > ?`,
		`DELETE FROM audit_persons_recent WHERE seq > ?`,
		`DELETE FROM audit_checkpoints WHERE size > ?`,
		`UPDATE audit_index SET moved = ? WHERE moved > ?`,
	} {
		args := []any{size}
		if strings.Count(q, "?") == 2 {
			args = append(args, size)
		}
		if err := t.exec(ctx, q, args...); err != nil {
			return err
		}
	}
	if err := t.exec(ctx, `DELETE FROM audit_hashes WHERE idx >= ?`, tlog.StoredHashIndex(0, size)); err != nil {
		return err
	}
	t.db.auditLast.Store(-1)
	t.db.auditUnindexed.Store(-1)
	return nil
}

// RawQuery runs a read on the writer, for tests that measure the schema.
func (db *DB) RawQuery(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return db.w.QueryContext(ctx, q, args...)
}

// RawQueryRow runs a read on the writer, for tests that look at the schema.
func (db *DB) RawQueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return db.w.QueryRowContext(ctx, q, args...)
}

// SetAuditMoveRows sets from how many rows the recent person index rows are moved.
func (db *DB) SetAuditMoveRows(n int64) { db.auditMoveRows = n }

// SetAuditMovePersons bounds the person rows of one move.
func (db *DB) SetAuditMovePersons(n int) { db.auditMovePersons = n }

// MigrateTo brings schema s of the database up or down to version.
func (db *DB) MigrateTo(ctx context.Context, s Schema, version int64) error {
	p, err := provider(db.dialect, db.w, s)
	if err != nil {
		return err
	}
	current, _, err := p.GetVersions(ctx) // the database's version, the latest available
	if err != nil {
		return err
	}
	if version < current {
		_, err = p.DownTo(ctx, version)
	} else {
		_, err = p.UpTo(ctx, version)
	}
	db.auditLast.Store(-1)
	db.auditUnindexed.Store(-1)
	db.auditNames.forget()
	return err
}
