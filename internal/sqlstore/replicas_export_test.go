package sqlstore

import (
	"context"
	"database/sql"
)

// ExecForTest runs q on the database, for tests that act as another session would.
func (db *DB) ExecForTest(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return db.w.ExecContext(ctx, q, args...)
}

// BeginForTest opens a transaction on the writer, for tests that interleave their own.
func (db *DB) BeginForTest(ctx context.Context) (*sql.Tx, error) { return db.w.BeginTx(ctx, nil) }
