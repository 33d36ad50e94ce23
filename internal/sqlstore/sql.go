package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// q returns query, written with ? placeholders, in the dialect's form.
func (db *DB) q(query string) string {
	if db.dialect != Postgres {
		return query
	}
	if b, ok := db.binds.Load(query); ok {
		return b.(string)
	}
	b := rebind(query)
	db.binds.Store(query, b)
	return b
}

// rebind numbers the ? placeholders of query as $1, $2, … (no query here has a ? in a literal).
func rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// stmt returns query prepared on pool, preparing it on first use. It prepares without
// holding db.mu: preparing on the writer waits for its connection, and a transaction
// holding that connection may be waiting for db.mu in txStmt.
func (db *DB) stmt(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	k := stmtKey{pool, query}
	db.mu.RLock()
	st, ok := db.stmts[k]
	db.mu.RUnlock()
	if ok {
		return st, nil
	}
	st, err := pool.PrepareContext(ctx, db.q(query))
	if err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if first, ok := db.stmts[k]; ok { // prepared meanwhile by another caller
		st.Close()
		return first, nil
	}
	db.stmts[k] = st
	return st, nil
}

// txStmt returns query bound to tx: the statement prepared at Open when there is one (on
// SQLite's single writer connection it is already prepared there), else one prepared in tx.
// It never prepares on the pool, which would wait for the connection tx holds.
func (db *DB) txStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	db.mu.RLock()
	st, ok := db.stmts[stmtKey{db.w, query}]
	db.mu.RUnlock()
	if ok {
		return tx.StmtContext(ctx, st), nil
	}
	return tx.PrepareContext(ctx, db.q(query))
}

// writeStmts are the statements of each schema that batches run per row, and those an
// immediate declaration runs (employment.go).
var writeStmts = map[Schema][]string{
	Hub:        {findOverlap, insertLine, endLine, insertChange},
	Civil:      {upsertPerson, insertEvent, insertSeq, recordEvent, lockPersonSQL, updatePersonDoc},
	Employment: {openRelationSQL, insertRelationSQL, insertDeclarationSQL},
}

// sqliteWriteStmts are prepared on SQLite only (its group commit's savepoints).
var sqliteWriteStmts = map[Schema][]string{
	Employment: {savepointSQL, rollbackToSQL, releaseSQL},
}

// prepareWrites prepares the per-row statements of schema on the writer.
func (db *DB) prepareWrites(ctx context.Context, s Schema) error {
	qs := writeStmts[s]
	if db.dialect != Postgres {
		qs = append(slices.Clip(qs), sqliteWriteStmts[s]...)
	}
	for _, q := range qs {
		if _, err := db.stmt(ctx, db.w, q); err != nil {
			return mapErr(err, "prepare statements")
		}
	}
	return nil
}

// prepared returns the statement query prepared on the writer at Open, bound to tx, on
// SQLite; nil on PostgreSQL (pgx keeps its own cache of prepared statements) or when
// query was not prepared. SQLite's driver would otherwise parse the text at each call,
// a good part of a short transaction's processor time.
func (db *DB) prepared(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	if db.dialect == Postgres {
		return nil
	}
	db.mu.RLock()
	st, ok := db.stmts[stmtKey{db.w, query}]
	db.mu.RUnlock()
	if !ok {
		return nil
	}
	return tx.StmtContext(ctx, st)
}

// txQueryRow runs query in tx, prepared when it can be (see prepared).
func (db *DB) txQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := db.prepared(ctx, tx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, db.q(query), args...)
}

// txExec runs query in tx, prepared when it can be (see prepared).
func (db *DB) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := db.prepared(ctx, tx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, db.q(query), args...)
}

// begin opens a write transaction (IMMEDIATE on SQLite, so a read-then-write never fails
// to upgrade its lock).
func (db *DB) begin(ctx context.Context, op string) (*sql.Tx, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, mapErr(err, op)
	}
	return tx, nil
}

// commit commits tx, mapping its error.
func commit(tx *sql.Tx, op string) error {
	return mapErr(tx.Commit(), op)
}

// mapErr turns a driver error into a fault: unique violations into Conflict, a busy
// database into Unavailable, the rest into Internal with op. Messages never hold SQL.
func mapErr(err error, op string) error {
	switch {
	case err == nil:
		return nil
	case isUnique(err):
		return &fault.Error{Kind: fault.Conflict, Msg: op + ": a record with the same key already exists", Err: err}
	case isBusy(err):
		return fault.Unavailablef(err, "%s: the database is busy", op)
	}
	return fault.Wrap(err, op)
}

func isUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// isOverlap reports whether err is the refusal of SQLite's integration_no_overlap trigger.
func isOverlap(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_TRIGGER
}

func isBusy(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	return false
}

// limit applies the default page size and the cap.
func limit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}

// nullText is s, or NULL when empty.
func nullText(s []byte) any {
	if len(s) == 0 {
		return nil
	}
	return string(s)
}
