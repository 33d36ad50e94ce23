package sqlstore

import (
	"context"
	"database/sql"
	"math/bits"
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Audit returns the audit log's store, kept in the hub schema.
func (db *DB) Audit() audit.Store { return &auditStore{db: db} }

// auditStore is the audit.Store of a DB.
type auditStore struct{ db *DB }

// auditTables are the row inserts of a batch, run as multi-row INSERTs of power-of-two
// sizes up to auditRows, so that a handful of prepared statements cover every batch and
// a batch of 512 records takes a few dozen statements, not a thousand.
var auditTables = [...]string{
	`INSERT INTO audit_records (seq, body) VALUES `,
	`INSERT INTO audit_hashes (idx, hash) VALUES `,
	`INSERT INTO audit_persons_recent (person, seq) VALUES `,
}

const (
	auditRecords = iota
	auditHashes
	auditPersonsRecent
	auditRows = 128
)

// auditSQL[t][k] is the INSERT of 2^k rows into table t, up to auditRows = 2^7.
var auditSQL = func() (q [len(auditTables)][8]string) {
	for t, head := range auditTables {
		for k := range q[t] {
			q[t][k] = head + strings.TrimSuffix(strings.Repeat("(?, ?), ", 1<<k), ", ")
		}
	}
	return q
}()

// auditInsert returns the INSERT of n rows into table t; n is a power of two ≤ auditRows.
func auditInsert(t, n int) string { return auditSQL[t][bits.Len(uint(n))-1] }

// Append stores the batch in one transaction on the writer.
func (s *auditStore) Append(ctx context.Context, b audit.Batch) error {
	persons := auditPersonRows(b.Persons)
	if err := s.prepare(ctx); err != nil {
		return err
	}
	tx, err := s.db.begin(ctx, "append audit records")
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// The log's end is read once, then kept: another writer appending meanwhile makes
	// this batch fail on the records' primary key.
	last := s.db.auditLast.Swap(-1) // unknown until this batch commits
	if last < 0 {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT MAX(seq) FROM audit_records), 0)`).Scan(&last); err != nil {
			return mapErr(err, "append audit records")
		}
	}
	if last != b.First-1 {
		s.db.auditLast.Store(last)
		return fault.Conflictf("seq", "the audit log holds %d records; the batch starts at %d", last, b.First)
	}
	hash0 := b.FirstHash()
	if err := s.insert(ctx, tx, auditRecords, len(b.Records), func(i int, args []any) []any {
		return append(args, b.First+int64(i), b.Records[i])
	}); err != nil {
		return err
	}
	if err := s.insert(ctx, tx, auditHashes, len(b.Hashes), func(i int, args []any) []any {
		return append(args, hash0+int64(i), b.Hashes[i][:])
	}); err != nil {
		return err
	}
	if err := s.insert(ctx, tx, auditPersonsRecent, len(persons), func(i int, args []any) []any {
		return append(args, persons[i].person, persons[i].seq)
	}); err != nil {
		return err
	}
	recent, err := s.moveRecent(ctx, tx, int64(len(persons)))
	if err != nil {
		return err
	}
	if err := commit(tx, "append audit records"); err != nil {
		return err
	}
	s.db.auditLast.Store(b.First + int64(len(b.Records)) - 1)
	s.db.auditRecent.Store(recent)
	return nil
}

// moveRecent moves the person index rows of the latest records into audit_persons once
// there are auditMoveRows of them, and returns how many are left in
// audit_persons_recent. Appended in seq order, the recent rows fill the end of their
// table; moved sorted by person, many rows share a page of the index, written once.
func (s *auditStore) moveRecent(ctx context.Context, tx *sql.Tx, added int64) (int64, error) {
	recent := s.db.auditRecent.Swap(-1) // unknown until this batch commits
	if recent < 0 {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_persons_recent`).Scan(&recent); err != nil {
			return 0, mapErr(err, "count the recent audit person rows")
		}
	} else {
		recent += added
	}
	if recent < s.db.auditMoveRows {
		return recent, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_persons (person, seq) SELECT person, seq FROM audit_persons_recent ORDER BY person, seq`); err != nil {
		return 0, mapErr(err, "move the recent audit person rows")
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM audit_persons_recent`); err != nil {
		return 0, mapErr(err, "move the recent audit person rows")
	}
	return 0, nil
}

// prepare prepares the inserts on the writer, once per DB, before the transaction
// takes it: on SQLite, preparing on the pool would wait for the connection tx holds.
func (s *auditStore) prepare(ctx context.Context) error {
	if s.db.auditPrepared.Load() {
		return nil
	}
	for t := range auditTables {
		for n := auditRows; n > 0; n /= 2 {
			if _, err := s.db.stmt(ctx, s.db.w, auditInsert(t, n)); err != nil {
				return mapErr(err, "prepare audit statements")
			}
		}
	}
	s.db.auditPrepared.Store(true)
	return nil
}

// insert inserts n rows into table t in tx; row appends the arguments of row i.
func (s *auditStore) insert(ctx context.Context, tx *sql.Tx, t, n int, row func(i int, args []any) []any) error {
	most := auditRows
	args := make([]any, 0, 2*min(n, most))
	stmts := map[int]*sql.Stmt{} // by rows, bound to tx
	for done := 0; done < n; {
		rows := most
		for rows > n-done {
			rows /= 2
		}
		st, ok := stmts[rows]
		if !ok {
			var err error
			if st, err = s.db.txStmt(ctx, tx, auditInsert(t, rows)); err != nil {
				return mapErr(err, "append audit records")
			}
			stmts[rows] = st
		}
		args = args[:0]
		for i := done; i < done+rows; i++ {
			args = row(i, args)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return mapErr(err, "append audit records")
		}
		done += rows
	}
	return nil
}

type auditPerson struct{ person, seq int64 }

// auditPersonRows turns the person index rows into column values. Persons that are not
// person numbers are left out of the index (the record still names them): they cannot
// be anyone's data. Two spellings of one number in one record make one row.
func auditPersonRows(ps []audit.PersonSeq) []auditPerson {
	out := make([]auditPerson, 0, len(ps))
	first := 0 // the first row of the current seq
	for _, p := range ps {
		key, err := personKey(p.Person)
		if err != nil {
			continue
		}
		r := auditPerson{key, p.Seq}
		if first < len(out) && out[first].seq != p.Seq {
			first = len(out)
		}
		if !slices.Contains(out[first:], r) {
			out = append(out, r)
		}
	}
	return out
}
