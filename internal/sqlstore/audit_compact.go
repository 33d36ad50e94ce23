package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/pressly/goose/v3"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/audit"
)

// auditCompactVersion is the hub schema's migration to the compact audit layout, in Go
// (the records are rewritten by audit.Compact):
//
//   - audit_names, the dictionary of the texts that repeat;
//   - each record's body in the compact form (about a fifth of the JSON), or left as
//     JSON when its bytes are not exactly what audit.Compact rebuilds: a log verifies
//     after it as before, as Expand gives every record's canonical bytes back;
//   - the stored hashes of records written before rows carried them (audit_hashes)
//     moved into their rows, so that each is stored once;
//   - the persons of the records not indexed yet moved into audit_persons, and the
//     persons column (",k1,k2,", text) replaced by person_keys (uvarints, about 6
//     bytes a person), read for the records not indexed yet.
//
// Down brings back version 6's layout: JSON bodies, the persons column (every record
// indexed first, so it stays empty), no dictionary.
const auditCompactVersion = 7

func auditCompactMigration(dialect string) *goose.Migration {
	return goose.NewGoMigration(auditCompactVersion,
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return compactAudit(ctx, tx, dialect) }},
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return expandAudit(ctx, tx, dialect) }})
}

// migrationChunk is how many records a migration reads at a time.
const migrationChunk = 2000

func binder(dialect string) func(string) string {
	if dialect == Postgres {
		return rebind
	}
	return func(q string) string { return q }
}

func compactAudit(ctx context.Context, tx *sql.Tx, dialect string) error {
	q := binder(dialect)
	idType := "INTEGER"
	if dialect == Postgres {
		idType = "bigint"
	}
	for _, stmt := range []string{
		`CREATE TABLE audit_names (id ` + idType + ` PRIMARY KEY, name TEXT NOT NULL)`,
		`CREATE UNIQUE INDEX audit_names_name ON audit_names (name)`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	packer := newAuditPacker(ctx, tx, q, &auditNames{})
	err := eachAuditChunk(ctx, tx, q, func(rows []auditRow) error {
		if err := fillAuditHashes(ctx, tx, q, rows); err != nil {
			return err
		}
		for _, r := range rows {
			stored, err := packer.pack(r.seq, [][]byte{r.body})
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, q(`UPDATE audit_records SET body = ?, hashes = ? WHERE seq = ?`), stored[0], r.hashes, r.seq); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := indexAllAudit(ctx, tx, q, personsColumn); err != nil {
		return err
	}
	for _, stmt := range []string{
		`DELETE FROM audit_hashes`,
		`DELETE FROM audit_persons_recent`,
		`ALTER TABLE audit_records DROP COLUMN persons`,
		`ALTER TABLE audit_records ADD COLUMN person_keys ` + blobType(dialect),
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

func expandAudit(ctx context.Context, tx *sql.Tx, dialect string) error {
	q := binder(dialect)
	all := func(ctx context.Context, tx *sql.Tx) ([]auditPerson, int64, error) {
		rows, last, _, err := unindexedPersons(ctx, tx, 0)
		return rows, last, err
	}
	if err := indexAllAudit(ctx, tx, q, all); err != nil {
		return err
	}
	for _, stmt := range []string{
		`ALTER TABLE audit_records DROP COLUMN person_keys`,
		`ALTER TABLE audit_records ADD COLUMN persons TEXT`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	names := func(id uint64) (string, error) {
		var s string
		err := tx.QueryRowContext(ctx, q(`SELECT name FROM audit_names WHERE id = ?`), int64(id)).Scan(&s)
		return s, err
	}
	err := eachAuditChunk(ctx, tx, q, func(rows []auditRow) error {
		for _, r := range rows {
			if !audit.IsCompact(r.body) {
				continue
			}
			body, err := audit.Expand(nil, r.seq, r.body, names)
			if err != nil {
				return fmt.Errorf("audit record %d: %w", r.seq, err)
			}
			if _, err := tx.ExecContext(ctx, q(`UPDATE audit_records SET body = ? WHERE seq = ?`), body, r.seq); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DROP TABLE audit_names`)
	return err
}

func blobType(dialect string) string {
	if dialect == Postgres {
		return "bytea"
	}
	return "BLOB"
}

// auditRow is a record row as a migration reads it.
type auditRow struct {
	seq          int64
	body, hashes []byte
}

// eachAuditChunk calls fn with the record rows, migrationChunk at a time, in seq order;
// fn may rewrite them.
func eachAuditChunk(ctx context.Context, tx *sql.Tx, q func(string) string, fn func([]auditRow) error) error {
	var after int64
	for {
		rs, err := tx.QueryContext(ctx, q(`SELECT seq, body, hashes FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?`), after, migrationChunk)
		if err != nil {
			return err
		}
		var rows []auditRow
		for rs.Next() {
			var r auditRow
			if err := rs.Scan(&r.seq, &r.body, &r.hashes); err != nil {
				rs.Close()
				return err
			}
			rows = append(rows, r)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		if err := fn(rows); err != nil {
			return err
		}
		after = rows[len(rows)-1].seq
	}
}

// fillAuditHashes gives the rows without their stored hashes (written before version
// 5) those of audit_hashes, read with one range query.
func fillAuditHashes(ctx context.Context, tx *sql.Tx, q func(string) string, rows []auditRow) error {
	var lo, hi int64 = -1, -1
	for _, r := range rows {
		if r.hashes == nil {
			if lo < 0 {
				lo = tlog.StoredHashIndex(0, r.seq-1)
			}
			hi = tlog.StoredHashCount(r.seq) - 1
		}
	}
	if lo < 0 {
		return nil
	}
	found := map[int64][]byte{}
	rs, err := tx.QueryContext(ctx, q(`SELECT idx, hash FROM audit_hashes WHERE idx >= ? AND idx <= ?`), lo, hi)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		var idx int64
		var h []byte
		if err := rs.Scan(&idx, &h); err != nil {
			return err
		}
		found[idx] = h
	}
	if err := rs.Err(); err != nil {
		return err
	}
	for i, r := range rows {
		if r.hashes != nil {
			continue
		}
		first := tlog.StoredHashIndex(0, r.seq-1)
		for k := range auditHashCount(r.seq) {
			h := found[first+int64(k)]
			if len(h) != 32 { // missing: zeros, which match no tree, so Verify names the record
				h = make([]byte, 32)
			}
			rows[i].hashes = append(rows[i].hashes, h...)
		}
	}
	return nil
}

// indexAllAudit puts the persons of every record not yet in audit_persons there, read by
// unindexed.
func indexAllAudit(ctx context.Context, tx *sql.Tx, q func(string) string,
	unindexed func(context.Context, *sql.Tx) ([]auditPerson, int64, error)) error {
	rows, last, err := unindexed(ctx, tx)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, q(`INSERT INTO audit_persons (person, seq) VALUES (?, ?) ON CONFLICT DO NOTHING`), r.person, r.seq); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM audit_persons_recent`); err != nil {
		return err
	}
	if last == 0 {
		return nil
	}
	_, err = tx.ExecContext(ctx, q(`UPDATE audit_index SET moved = ?`), last)
	return err
}

// personsColumn is unindexedPersons of version 6's layout: the persons column holds
// ",k1,k2,".
func personsColumn(ctx context.Context, tx *sql.Tx) (rows []auditPerson, last int64, err error) {
	rs, err := tx.QueryContext(ctx, `SELECT seq, persons FROM audit_records WHERE seq > (SELECT moved FROM audit_index) ORDER BY seq`)
	if err != nil {
		return nil, 0, err
	}
	defer rs.Close()
	for rs.Next() {
		var persons sql.NullString
		if err := rs.Scan(&last, &persons); err != nil {
			return nil, 0, err
		}
		for _, p := range strings.Split(strings.Trim(persons.String, ","), ",") {
			if key, err := strconv.ParseInt(p, 10, 64); err == nil {
				rows = append(rows, auditPerson{key, last})
			}
		}
	}
	if err := rs.Err(); err != nil {
		return nil, 0, err
	}
	rs, err = tx.QueryContext(ctx, `SELECT person, seq FROM audit_persons_recent`)
	if err != nil {
		return nil, 0, err
	}
	defer rs.Close()
	for rs.Next() {
		var r auditPerson
		if err := rs.Scan(&r.person, &r.seq); err != nil {
			return nil, 0, err
		}
		rows = append(rows, r)
	}
	return rows, last, rs.Err()
}
