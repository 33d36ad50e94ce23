package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// directoryStore is the directory.Store of a DB.
type directoryStore struct{ db *DB }

const recordColumns = `SELECT kind, key, owner, doc, version, updated_at, updated_by FROM record `

// PutRecord writes r if ifVersion allows it and appends the change to the history.
// CreateRecords creates records in one transaction.
func (s *directoryStore) CreateRecords(ctx context.Context, actor string, rs []directory.Record) error {
	tx, err := s.db.begin(ctx, "create records")
	if err != nil {
		return err
	}
	defer tx.Rollback()
	at := stamp(s.db.now())
	for _, r := range rs {
		if err := checkRecord(r, directory.MustCreate); err != nil {
			return err
		}
		old, found, err := s.lockRecord(ctx, tx, r.Kind, r.Key)
		if err != nil {
			return err
		}
		if err := checkVersion(r, old, found, directory.MustCreate); err != nil {
			return err
		}
		r.Version, r.UpdatedAt, r.UpdatedBy = 1, at, actor
		if err := s.writeRecord(ctx, tx, r, false); err != nil {
			return err
		}
		if err := s.db.appendChange(ctx, tx, directory.Change{At: at, Actor: actor, Kind: r.Kind, Key: r.Key, Op: "create", After: r.Doc}); err != nil {
			return err
		}
	}
	return commit(tx, "create records")
}

func (s *directoryStore) PutRecord(ctx context.Context, actor string, r directory.Record, ifVersion int64) (directory.Record, error) {
	if err := checkRecord(r, ifVersion); err != nil {
		return directory.Record{}, err
	}
	tx, err := s.db.begin(ctx, "put record")
	if err != nil {
		return directory.Record{}, err
	}
	defer tx.Rollback()
	old, found, err := s.lockRecord(ctx, tx, r.Kind, r.Key)
	if err != nil {
		return directory.Record{}, err
	}
	if err := checkVersion(r, old, found, ifVersion); err != nil {
		return directory.Record{}, err
	}
	r.Version, r.UpdatedAt, r.UpdatedBy = old.Version+1, stamp(s.db.now()), actor
	if err := s.writeRecord(ctx, tx, r, found); err != nil {
		return directory.Record{}, err
	}
	c := directory.Change{At: r.UpdatedAt, Actor: actor, Kind: r.Kind, Key: r.Key, Op: "create", After: r.Doc}
	if found {
		c.Op, c.Before = "update", old.Doc
	}
	if err := s.db.appendChange(ctx, tx, c); err != nil {
		return directory.Record{}, err
	}
	return r, commit(tx, "put record")
}

func checkRecord(r directory.Record, ifVersion int64) error {
	switch {
	case r.Kind == "":
		return fault.Invalidf("kind", "is required")
	case r.Key == "":
		return fault.Invalidf("key", "is required")
	case len(r.Doc) == 0:
		return fault.Invalidf("doc", "is required")
	case ifVersion < directory.MustCreate:
		return fault.Invalidf("version", "%d is not a version", ifVersion)
	}
	return nil
}

// checkVersion enforces the precondition of a write against the stored record.
func checkVersion(r, old directory.Record, found bool, ifVersion int64) error {
	switch {
	case ifVersion == directory.MustCreate && found:
		return fault.Conflictf("key", "%s %q already exists", r.Kind, r.Key)
	case ifVersion > 0 && !found:
		return fault.Conflictf("version", "%s %q does not exist any more (expected version %d)", r.Kind, r.Key, ifVersion)
	case ifVersion > 0 && old.Version != ifVersion:
		return fault.Conflictf("version", "%s %q is at version %d, not %d: it changed since it was read", r.Kind, r.Key, old.Version, ifVersion)
	}
	return nil
}

// stamp drops the monotonic reading and the zone, and rounds to what the store keeps.
func stamp(t time.Time) time.Time { return time.Unix(0, t.UnixNano()).UTC() }

// lockRecord reads a record in tx, locking its row on PostgreSQL.
func (s *directoryStore) lockRecord(ctx context.Context, tx *sql.Tx, kind directory.Kind, key string) (directory.Record, bool, error) {
	q := recordColumns + `WHERE kind = ? AND key = ?` + s.db.forUpdate()
	r, err := scanRecord(tx.QueryRowContext(ctx, s.db.q(q), string(kind), key))
	if errors.Is(err, sql.ErrNoRows) {
		return directory.Record{}, false, nil
	}
	if err != nil {
		return directory.Record{}, false, mapErr(err, "read record")
	}
	return r, true, nil
}

func (s *directoryStore) writeRecord(ctx context.Context, tx *sql.Tx, r directory.Record, found bool) error {
	q := `INSERT INTO record (owner, doc, version, updated_at, updated_by, kind, key) VALUES (?, ?, ?, ?, ?, ?, ?)`
	if found {
		q = `UPDATE record SET owner = ?, doc = ?, version = ?, updated_at = ?, updated_by = ? WHERE kind = ? AND key = ?`
	}
	_, err := tx.ExecContext(ctx, s.db.q(q), r.Owner, string(r.Doc), r.Version,
		r.UpdatedAt.UnixNano(), r.UpdatedBy, string(r.Kind), r.Key)
	return mapErr(err, "write record")
}

// DeleteRecord removes a record and appends its last state to the history.
func (s *directoryStore) DeleteRecord(ctx context.Context, actor string, kind directory.Kind, key string) error {
	tx, err := s.db.begin(ctx, "delete record")
	if err != nil {
		return err
	}
	defer tx.Rollback()
	old, found, err := s.lockRecord(ctx, tx, kind, key)
	if err != nil {
		return err
	}
	if !found {
		return fault.NotFoundf("%s %q not found", kind, key)
	}
	q := `DELETE FROM record WHERE kind = ? AND key = ?`
	if _, err := tx.ExecContext(ctx, s.db.q(q), string(kind), key); err != nil {
		return mapErr(err, "delete record")
	}
	c := directory.Change{At: stamp(s.db.now()), Actor: actor, Kind: kind, Key: key, Op: "delete", Before: old.Doc}
	if err := s.db.appendChange(ctx, tx, c); err != nil {
		return err
	}
	return commit(tx, "delete record")
}

// GetRecord returns one record or a NotFound fault.
func (s *directoryStore) GetRecord(ctx context.Context, kind directory.Kind, key string) (directory.Record, error) {
	q := recordColumns + `WHERE kind = ? AND key = ?`
	r, err := scanRecord(s.db.r.QueryRowContext(ctx, s.db.q(q), string(kind), key))
	if errors.Is(err, sql.ErrNoRows) {
		return directory.Record{}, fault.NotFoundf("%s %q not found", kind, key)
	}
	return r, mapErr(err, "get record")
}

// ListRecords returns records of a kind in key order, after q.After.
func (s *directoryStore) ListRecords(ctx context.Context, kind directory.Kind, q directory.ListQuery) ([]directory.Record, error) {
	query, args := recordColumns+`WHERE kind = ? AND key > ?`, []any{string(kind), q.After}
	if q.Owner != "" {
		query, args = query+` AND owner = ?`, append(args, q.Owner)
	}
	query, args = query+` ORDER BY key LIMIT ?`, append(args, limit(q.Limit))
	rows, err := s.db.r.QueryContext(ctx, s.db.q(query), args...)
	if err != nil {
		return nil, mapErr(err, "list records")
	}
	defer rows.Close()
	out := []directory.Record{}
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, mapErr(err, "list records")
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err(), "list records")
}

type scanner interface{ Scan(dest ...any) error }

func scanRecord(row scanner) (directory.Record, error) {
	var r directory.Record
	var kind string
	var at int64
	if err := row.Scan(&kind, &r.Key, &r.Owner, (*[]byte)(&r.Doc), &r.Version, &at, &r.UpdatedBy); err != nil {
		return directory.Record{}, err
	}
	r.Kind, r.UpdatedAt = directory.Kind(kind), time.Unix(0, at).UTC()
	return r, nil
}

// forUpdate locks the rows a read selects in a write transaction. SQLite has no row
// locks and needs none: its transactions are IMMEDIATE and writes go through one connection.
func (db *DB) forUpdate() string {
	if db.dialect == Postgres {
		return ` FOR UPDATE`
	}
	return ""
}
