package sqlstore

import (
	"context"
	"database/sql"
)

// ExecForTest runs q on the database, for tests that act as another session would.
func (db *DB) ExecForTest(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return db.w.ExecContext(ctx, q, args...)
}
