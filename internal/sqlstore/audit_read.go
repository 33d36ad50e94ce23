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

// Size returns the last stored seq.
func (s *auditStore) Size(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.r.QueryRowContext(ctx, `SELECT COALESCE((SELECT MAX(seq) FROM audit_records), 0)`).Scan(&n)
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

// ByPerson reads the person index (the moved rows by their key, and the few recent ones
// not yet moved) and the records it points to in one query.
func (s *auditStore) ByPerson(ctx context.Context, person string, after int64, n int) ([]audit.Entry, error) {
	key, err := personKey(person)
	if err != nil {
		return nil, err
	}
	q := `SELECT r.seq, r.body FROM (
			SELECT seq FROM audit_persons WHERE person = ? AND seq > ?
			UNION ALL SELECT seq FROM audit_persons_recent WHERE person = ? AND seq > ?
			ORDER BY seq LIMIT ?) p
		JOIN audit_records r ON r.seq = p.seq ORDER BY r.seq`
	return s.entries(ctx, "read audit records by person", q, key, after, key, after, limit(n))
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
