package sqlstore

import (
	"context"
	"database/sql"

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

func (t auditTamperer) SetHash(ctx context.Context, index int64, h tlog.Hash) error {
	return t.exec(ctx, `UPDATE audit_hashes SET hash = ? WHERE idx = ?`, h[:], index)
}

func (t auditTamperer) SetCheckpoint(ctx context.Context, size int64, note string) error {
	return t.exec(ctx, `UPDATE audit_checkpoints SET note = ? WHERE size = ?`, note, size)
}

// RawQueryRow runs a read on the writer, for tests that look at the schema.
func (db *DB) RawQueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return db.w.QueryRowContext(ctx, q, args...)
}

// SetAuditMoveRows sets from how many rows the recent person index rows are moved.
func (db *DB) SetAuditMoveRows(n int64) { db.auditMoveRows = n }
