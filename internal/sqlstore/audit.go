package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

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
	`INSERT INTO audit_persons (person, seq) VALUES `,
}

const (
	auditRecords = iota
	auditHashes
	auditPersons
	auditRows = 128
)

// auditInsert returns the INSERT of n rows into table t.
func auditInsert(t, n int) string {
	return auditTables[t] + strings.TrimSuffix(strings.Repeat("(?, ?), ", n), ", ")
}

// maxRows is the largest INSERT into table t. On SQLite the person index takes one row
// per statement: in a transaction, SQLite journals every page a multi-row INSERT
// modifies that existed before it (to undo half a statement), and person index rows
// land on scattered existing pages, while records and hashes only append.
func (s *auditStore) maxRows(t int) int {
	if t == auditPersons && s.db.dialect == SQLite {
		return 1
	}
	return auditRows
}

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
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM audit_records`).Scan(&last); err != nil {
		return mapErr(err, "append audit records")
	}
	if last != b.First-1 {
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
	if err := s.insert(ctx, tx, auditPersons, len(persons), func(i int, args []any) []any {
		return append(args, persons[i].person, persons[i].seq)
	}); err != nil {
		return err
	}
	return commit(tx, "append audit records")
}

// prepare prepares the inserts on the writer, once per DB, before the transaction
// takes it: on SQLite, preparing on the pool would wait for the connection tx holds.
func (s *auditStore) prepare(ctx context.Context) error {
	for t := range auditTables {
		for n := s.maxRows(t); n > 0; n /= 2 {
			if _, err := s.db.stmt(ctx, s.db.w, auditInsert(t, n)); err != nil {
				return mapErr(err, "prepare audit statements")
			}
		}
	}
	return nil
}

// insert inserts n rows into table t in tx; row appends the arguments of row i.
func (s *auditStore) insert(ctx context.Context, tx *sql.Tx, t, n int, row func(i int, args []any) []any) error {
	most := s.maxRows(t)
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

// Size returns the last stored seq.
func (s *auditStore) Size(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM audit_records`).Scan(&n)
	return n, mapErr(err, "read the audit log's size")
}

// ReadHashes reads a auditContiguous run with one range query, other indexes with IN lists.
func (s *auditStore) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	found := make(map[int64]tlog.Hash, len(indexes))
	if auditContiguous(indexes) {
		q := `SELECT idx, hash FROM audit_hashes WHERE idx >= ? AND idx <= ?`
		if err := s.readHashes(ctx, found, q, indexes[0], indexes[len(indexes)-1]); err != nil {
			return nil, err
		}
	} else {
		for chunk := range slices.Chunk(indexes, 256) {
			q := `SELECT idx, hash FROM audit_hashes WHERE idx IN (?` + strings.Repeat(", ?", len(chunk)-1) + `)`
			args := make([]any, len(chunk))
			for i, x := range chunk {
				args[i] = x
			}
			if err := s.readHashes(ctx, found, q, args...); err != nil {
				return nil, err
			}
		}
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := found[x]
		if !ok {
			return nil, fault.NotFoundf("stored hash %d of the audit log not found", x)
		}
		out[i] = h
	}
	return out, nil
}

func auditContiguous(indexes []int64) bool {
	for i, x := range indexes {
		if x != indexes[0]+int64(i) {
			return false
		}
	}
	return true
}

// readHashes adds the rows of q to found. A stored hash of the wrong length reads as the
// zero hash, which matches no tree, so that Verify names the record that wrote it.
func (s *auditStore) readHashes(ctx context.Context, found map[int64]tlog.Hash, q string, args ...any) error {
	rows, err := s.db.r.QueryContext(ctx, s.db.q(q), args...)
	if err != nil {
		return mapErr(err, "read audit hashes")
	}
	defer rows.Close()
	var raw []byte
	for rows.Next() {
		var idx int64
		if err := rows.Scan(&idx, &raw); err != nil {
			return mapErr(err, "read audit hashes")
		}
		var h tlog.Hash
		if len(raw) == len(h) {
			copy(h[:], raw)
		}
		found[idx] = h
	}
	return mapErr(rows.Err(), "read audit hashes")
}

// Records returns stored records after a seq.
func (s *auditStore) Records(ctx context.Context, after int64, n int) ([]audit.Entry, error) {
	q := `SELECT seq, body FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?`
	return s.entries(ctx, "read audit records", q, after, limit(n))
}

// ByPerson reads the person index and the records it points to in one query.
func (s *auditStore) ByPerson(ctx context.Context, person string, after int64, n int) ([]audit.Entry, error) {
	key, err := personKey(person)
	if err != nil {
		return nil, err
	}
	q := `SELECT r.seq, r.body FROM audit_persons p JOIN audit_records r ON r.seq = p.seq
		WHERE p.person = ? AND p.seq > ? ORDER BY p.seq LIMIT ?`
	return s.entries(ctx, "read audit records by person", q, key, after, limit(n))
}

func (s *auditStore) entries(ctx context.Context, op, q string, args ...any) ([]audit.Entry, error) {
	rows, err := s.db.r.QueryContext(ctx, s.db.q(q), args...)
	if err != nil {
		return nil, mapErr(err, op)
	}
	defer rows.Close()
	out := []audit.Entry{}
	for rows.Next() {
		var e audit.Entry
		if err := rows.Scan(&e.Seq, &e.Body); err != nil {
			return nil, mapErr(err, op)
		}
		out = append(out, e)
	}
	return out, mapErr(rows.Err(), op)
}

// SaveCheckpoint stores a signed checkpoint.
func (s *auditStore) SaveCheckpoint(ctx context.Context, c audit.StoredCheckpoint) error {
	q := `INSERT INTO audit_checkpoints (size, note, created_at) VALUES (?, ?, ?)`
	_, err := s.db.w.ExecContext(ctx, s.db.q(q), c.Size, c.Note, c.Created.UnixNano())
	return mapErr(err, "save an audit checkpoint")
}

const auditCheckpointColumns = `SELECT size, note, created_at FROM audit_checkpoints `

// Checkpoints lists checkpoints by size.
func (s *auditStore) Checkpoints(ctx context.Context, after int64, n int) ([]audit.StoredCheckpoint, error) {
	rows, err := s.db.r.QueryContext(ctx, s.db.q(auditCheckpointColumns+`WHERE size > ? ORDER BY size LIMIT ?`), after, limit(n))
	if err != nil {
		return nil, mapErr(err, "list audit checkpoints")
	}
	defer rows.Close()
	out := []audit.StoredCheckpoint{}
	for rows.Next() {
		c, err := scanAuditCheckpoint(rows)
		if err != nil {
			return nil, mapErr(err, "list audit checkpoints")
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err(), "list audit checkpoints")
}

// LatestCheckpoint returns the checkpoint of the largest size.
func (s *auditStore) LatestCheckpoint(ctx context.Context) (audit.StoredCheckpoint, error) {
	c, err := scanAuditCheckpoint(s.db.r.QueryRowContext(ctx, auditCheckpointColumns+`ORDER BY size DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return audit.StoredCheckpoint{}, fault.NotFoundf("the audit log has no checkpoint")
	}
	return c, mapErr(err, "read the latest audit checkpoint")
}

func scanAuditCheckpoint(row scanner) (audit.StoredCheckpoint, error) {
	var c audit.StoredCheckpoint
	var at int64
	if err := row.Scan(&c.Size, &c.Note, &at); err != nil {
		return audit.StoredCheckpoint{}, err
	}
	c.Created = time.Unix(0, at).UTC()
	return c, nil
}
