package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"iter"
	"math"
	"math/bits"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Audit returns the audit log's store, kept in the hub schema. On PostgreSQL it is an
// audit.SharedStore: several hub processes may append to it (audit_shared.go).
func (db *DB) Audit() audit.Store {
	s := auditStore{db: db}
	// The dictionary's reader, made once (not per record): its context only bounds a
	// look-up in the table, once per text missing from memory.
	s.nameOf = db.auditNames.textOf(context.Background(), db.r, db.q)
	if db.dialect == Postgres {
		return &sharedAuditStore{s}
	}
	return &s
}

// auditStore is the audit.Store of a DB.
type auditStore struct {
	db     *DB
	nameOf audit.NameOf // the dictionary's texts
}

// auditTables are the row inserts of a batch, run as multi-row INSERTs of power-of-two
// sizes up to auditRows, so that a handful of prepared statements cover every batch and
// a batch of 512 records takes a few dozen statements, not a thousand.
//
// A batch writes one table: each record row carries the record in its stored form
// (audit.Compact), the stored hashes it adds to the tree, and the keys of the persons
// its batch indexes it by (auditPersonKeys).
// Every auditMoveRows records, the persons of the records since the last move go into
// the person index audit_persons, sorted, so that they share its pages. (Migration 7,
// audit_compact.go, brought older layouts to this one.)
var auditTables = [...]struct{ head, row string }{
	{`INSERT INTO audit_records (seq, body, hashes, person_keys) VALUES `, `(?, ?, ?, ?)`},
	{`INSERT INTO audit_persons (person, seq) VALUES `, `(?, ?)`},
}

const (
	auditRecords = iota
	auditPersons
	auditRows = 128
)

// auditSQL[t][k] is the INSERT of 2^k rows into table t, up to auditRows = 2^7.
var auditSQL = func() (q [len(auditTables)][8]string) {
	for t, table := range auditTables {
		for k := range q[t] {
			q[t][k] = table.head + strings.TrimSuffix(strings.Repeat(table.row+", ", 1<<k), ", ")
		}
	}
	return q
}()

// auditInsert returns the INSERT of n rows into table t; n is a power of two ≤ auditRows.
func auditInsert(t, n int) string { return auditSQL[t][bits.Len(uint(n))-1] }

// Append stores the batch in one transaction on the writer.
func (s *auditStore) Append(ctx context.Context, b audit.Batch) error {
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
	packer, err := s.write(ctx, tx, b)
	if err != nil {
		return err
	}
	unindexed, err := s.index(ctx, tx, int64(len(b.Records)))
	if err != nil {
		return err
	}
	if err := commit(tx, "append audit records"); err != nil {
		return err
	}
	packer.done()
	s.db.auditLast.Store(b.First + int64(len(b.Records)) - 1)
	s.db.auditUnindexed.Store(unindexed)
	return nil
}

// write inserts the batch's record rows in tx: each record in its stored form (compact
// when it can be, audit.Compact) with the stored hashes it adds. The packer's done
// remembers the dictionary's new texts once tx has committed.
func (s *auditStore) write(ctx context.Context, tx *sql.Tx, b audit.Batch) (*auditPacker, error) {
	hashes, err := recordHashes(b)
	if err != nil {
		return nil, err
	}
	packer := newAuditPacker(ctx, tx, s.db.q, &s.db.auditNames)
	stored, err := packer.pack(b.First, b.Records)
	if err != nil {
		return nil, err
	}
	persons := auditPersonKeys(b)
	err = s.insert(ctx, tx, auditRecords, len(b.Records), func(i int, args []any) []any {
		return append(args, b.First+int64(i), stored[i], hashes[i], persons[i])
	})
	return packer, err
}

// recordHashes splits the batch's stored hashes by record: record seq adds
// auditHashCount(seq) of them, its leaf hash first.
func recordHashes(b audit.Batch) ([][]byte, error) {
	if b.First < 1 {
		return nil, fault.Invalidf("first", "the first record of a batch is 1 or after, not %d", b.First)
	}
	if want := tlog.StoredHashCount(b.First-1+int64(len(b.Records))) - b.FirstHash(); int64(len(b.Hashes)) != want {
		return nil, fault.Invalidf("hashes", "the batch holds %d stored hashes; its records add %d", len(b.Hashes), want)
	}
	flat := make([]byte, 0, 32*len(b.Hashes))
	for _, h := range b.Hashes {
		flat = append(flat, h[:]...)
	}
	out := make([][]byte, len(b.Records))
	for i := range out {
		n := 32 * auditHashCount(b.First+int64(i))
		out[i], flat = flat[:n:n], flat[n:]
	}
	return out, nil
}

// auditHashCount is how many stored hashes record seq adds to the tree: its leaf hash,
// and one for each subtree it completes (as many as its index has trailing ones).
func auditHashCount(seq int64) int { return 1 + bits.TrailingZeros64(^uint64(seq-1)) }

// index puts the persons of the records not yet in audit_persons there once there are
// auditMoveRows of them, and returns how many records are left out of it.
func (s *auditStore) index(ctx context.Context, tx *sql.Tx, added int64) (int64, error) {
	unindexed := s.db.auditUnindexed.Swap(-1) // unknown until this batch commits
	if unindexed < 0 {
		q := `SELECT COUNT(*) FROM audit_records WHERE seq > (SELECT moved FROM audit_index)`
		if err := tx.QueryRowContext(ctx, q).Scan(&unindexed); err != nil {
			return 0, mapErr(err, "count the unindexed audit records")
		}
	} else {
		unindexed += added
	}
	if unindexed < s.db.auditMoveRows {
		return unindexed, nil
	}
	rows, moved, left, err := unindexedPersons(ctx, tx, s.db.auditMovePersons)
	if err != nil {
		return 0, err
	}
	if err := s.insert(ctx, tx, auditPersons, len(rows), func(i int, args []any) []any {
		return append(args, rows[i].person, rows[i].seq)
	}); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM audit_persons_recent`); err != nil {
		return 0, mapErr(err, "index the audit records by person")
	}
	if moved == 0 { // no record to index after all (the count was off)
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, s.db.q(`UPDATE audit_index SET moved = ?`), moved); err != nil {
		return 0, mapErr(err, "index the audit records by person")
	}
	return left, nil
}

// defaultAuditMovePersons bounds the person rows one move puts in the index: records naming a
// thousand persons each (a batch consultation, the rights engine's reads) made a move of
// 4,096 records four million rows, a transaction that outlasted the store's time-out on
// a busy machine and failed the log closed for every exchange meanwhile (#19). The
// records left are moved by the next batches; ByPerson reads them from their keys until
// then.
const defaultAuditMovePersons = 1 << 17

// unindexedPersons reads the person rows of the records not yet in audit_persons, up to
// budget rows (0: all) at a record's end (and those left in audit_persons_recent by an
// older version), sorted by person; the last seq they cover, and how many records after
// it are left out.
func unindexedPersons(ctx context.Context, tx *sql.Tx, budget int) (rows []auditPerson, last, left int64, err error) {
	q := `SELECT seq, person_keys FROM audit_records WHERE seq > (SELECT moved FROM audit_index) ORDER BY seq`
	rs, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, 0, 0, mapErr(err, "index the audit records by person")
	}
	defer rs.Close()
	var keys []byte
	for rs.Next() {
		if budget > 0 && len(rows) >= budget {
			left++
			continue
		}
		if err := rs.Scan(&last, &keys); err != nil {
			return nil, 0, 0, mapErr(err, "index the audit records by person")
		}
		for key := range auditKeys(keys) {
			rows = append(rows, auditPerson{key, last})
		}
	}
	if err := rs.Err(); err != nil {
		return nil, 0, 0, mapErr(err, "index the audit records by person")
	}
	rs, err = tx.QueryContext(ctx, `SELECT person, seq FROM audit_persons_recent`)
	if err != nil {
		return nil, 0, 0, mapErr(err, "index the audit records by person")
	}
	defer rs.Close()
	for rs.Next() {
		var r auditPerson
		if err := rs.Scan(&r.person, &r.seq); err != nil {
			return nil, 0, 0, mapErr(err, "index the audit records by person")
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b auditPerson) int {
		return cmp.Or(cmp.Compare(a.person, b.person), cmp.Compare(a.seq, b.seq))
	})
	return rows, last, left, mapErr(rs.Err(), "index the audit records by person")
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
	args := make([]any, 0, strings.Count(auditTables[t].row, "?")*min(n, most))
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

// auditPersonKeys returns, for each record of the batch, the keys of the persons the
// batch indexes it by, as uvarints (about 6 bytes a person); nil for a record that
// concerns no one. Persons that are not person numbers are left out (the record still
// names them): they cannot be anyone's data. Two spellings of one number make one.
func auditPersonKeys(b audit.Batch) []any {
	out := make([]any, len(b.Records))
	var keys []int64
	for i := 0; i < len(b.Persons); {
		seq := b.Persons[i].Seq
		keys = keys[:0]
		for ; i < len(b.Persons) && b.Persons[i].Seq == seq; i++ {
			// Persons usually come in number order (a batch's chunk, the rights engine's
			// reads): a key above the last is new without a search of the list.
			key, err := personKey(b.Persons[i].Person)
			if n := len(keys); err == nil && (n == 0 || key > keys[n-1] || !slices.Contains(keys, key)) {
				keys = append(keys, key)
			}
		}
		if k := seq - b.First; k >= 0 && k < int64(len(out)) && len(keys) > 0 {
			var list []byte
			for _, key := range keys {
				list = binary.AppendUvarint(list, uint64(key))
			}
			out[k] = list
		}
	}
	return out
}

// auditKeys yields the keys of a person_keys value; damaged bytes end it.
func auditKeys(b []byte) iter.Seq[int64] {
	return func(yield func(int64) bool) {
		for len(b) > 0 {
			v, n := binary.Uvarint(b)
			if n <= 0 || v > math.MaxInt64 || !yield(int64(v)) {
				return
			}
			b = b[n:]
		}
	}
}
