package sqlstore

import (
	"cmp"
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

// ReadHashes reads the hashes from the rows of the records that stored them, with one
// range query for a contiguous run of records and IN lists otherwise; hashes of records
// written before rows carried them come from audit_hashes.
func (s *auditStore) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	found := make(map[int64]tlog.Hash, len(indexes))
	seqs := make([]int64, 0, len(indexes))
	for _, x := range indexes {
		if x >= 0 {
			seqs = append(seqs, auditHashSeq(x))
		}
	}
	slices.Sort(seqs)
	seqs = slices.Compact(seqs)
	q := `SELECT seq, hashes FROM audit_records WHERE hashes IS NOT NULL AND `
	if err := s.readByRuns(ctx, seqs, q+`seq >= ? AND seq <= ?`, q+`seq IN `, func(rows *sql.Rows) error {
		var seq int64
		var raw []byte
		if err := rows.Scan(&seq, &raw); err != nil {
			return err
		}
		addRecordHashes(found, seq, raw)
		return nil
	}); err != nil {
		return nil, mapErr(err, "read audit hashes")
	}
	var old []int64
	for _, x := range indexes {
		if _, ok := found[x]; !ok {
			old = append(old, x)
		}
	}
	q = `SELECT idx, hash FROM audit_hashes WHERE `
	if err := s.readByRuns(ctx, old, q+`idx >= ? AND idx <= ?`, q+`idx IN `, func(rows *sql.Rows) error {
		var idx int64
		var raw []byte
		if err := rows.Scan(&idx, &raw); err != nil {
			return err
		}
		found[idx] = auditHash(raw)
		return nil
	}); err != nil {
		return nil, mapErr(err, "read audit hashes")
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

// auditHashSeq is the seq of the record that stored hash index x: the hash of level l
// over records n·2^l … (n+1)·2^l − 1 is stored by the last of them.
func auditHashSeq(x int64) int64 {
	level, n := tlog.SplitStoredHashIndex(x)
	return (n + 1) << level
}

// addRecordHashes adds the stored hashes that record seq's row holds. A row whose
// hashes have the wrong length reads as zero hashes, which match no tree, so that
// Verify names the record.
func addRecordHashes(found map[int64]tlog.Hash, seq int64, raw []byte) {
	n := auditHashCount(seq)
	first := tlog.StoredHashIndex(0, seq-1)
	for level := range n {
		var h tlog.Hash
		if len(raw) == n*len(h) {
			copy(h[:], raw[level*len(h):])
		}
		found[first+int64(level)] = h
	}
}

// auditHash reads a stored hash; one of the wrong length reads as the zero hash.
func auditHash(raw []byte) tlog.Hash {
	var h tlog.Hash
	if len(raw) == len(h) {
		copy(h[:], raw)
	}
	return h
}

// readByRuns calls scan on the rows of keys, sorted: a contiguous run with one range
// query (ranged: "… key >= ? AND key <= ?"), other keys with IN lists (in: "… key IN ").
func (s *auditStore) readByRuns(ctx context.Context, keys []int64, ranged, in string, scan func(*sql.Rows) error) error {
	if len(keys) == 0 {
		return nil
	}
	if auditContiguous(keys) {
		return s.readRows(ctx, scan, ranged, keys[0], keys[len(keys)-1])
	}
	for chunk := range slices.Chunk(keys, 256) {
		args := make([]any, len(chunk))
		for i, x := range chunk {
			args[i] = x
		}
		if err := s.readRows(ctx, scan, in+`(?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...); err != nil {
			return err
		}
	}
	return nil
}

func auditContiguous(keys []int64) bool {
	for i, x := range keys {
		if x != keys[0]+int64(i) {
			return false
		}
	}
	return true
}

func (s *auditStore) readRows(ctx context.Context, scan func(*sql.Rows) error, q string, args ...any) error {
	return s.readRowsOn(ctx, s.db.r, scan, q, args...)
}

func (s *auditStore) readRowsOn(ctx context.Context, pool *sql.DB, scan func(*sql.Rows) error, q string, args ...any) error {
	rows, err := pool.QueryContext(ctx, s.db.q(q), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Records returns stored records after a seq, expanded to their canonical bytes.
func (s *auditStore) Records(ctx context.Context, after int64, n int) ([]audit.Entry, error) {
	q := `SELECT seq, body FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?`
	return s.entries(ctx, "read audit records", q, after, limit(n))
}

// ByPerson reads the person index (audit_persons, and audit_persons_recent left by an
// older version), then, when it found fewer than n, the records not indexed yet (at
// most auditMoveRows and a batch), whose persons it reads from their bodies.
func (s *auditStore) ByPerson(ctx context.Context, person string, after int64, n int) ([]audit.Entry, error) {
	key, err := personKey(person)
	if err != nil {
		return nil, err
	}
	n = limit(n)
	q := `SELECT r.seq, r.body FROM (
			SELECT seq FROM audit_persons WHERE person = ? AND seq > ?
			UNION ALL SELECT seq FROM audit_persons_recent WHERE person = ? AND seq > ?
			ORDER BY seq LIMIT ?) p
		JOIN audit_records r ON r.seq = p.seq ORDER BY r.seq`
	out, err := s.entries(ctx, "read audit records by person", q, key, after, key, after, n)
	if err != nil || len(out) >= n {
		return out, err
	}
	// The index holds the records up to moved; those after it are found by their keys.
	from := after
	if len(out) > 0 {
		from = max(from, out[len(out)-1].Seq)
	}
	q = `SELECT seq, person_keys FROM audit_records WHERE seq > (SELECT moved FROM audit_index) AND seq > ? AND person_keys IS NOT NULL ORDER BY seq`
	var seqs []int64
	err = s.readRows(ctx, func(rs *sql.Rows) error {
		var seq int64
		var keys []byte
		if err := rs.Scan(&seq, &keys); err != nil {
			return err
		}
		for k := range auditKeys(keys) {
			if k == key && len(out)+len(seqs) < n {
				seqs = append(seqs, seq)
				break
			}
		}
		return nil
	}, q, from)
	if err != nil {
		return nil, mapErr(err, "read audit records by person")
	}
	q = `SELECT seq, body FROM audit_records WHERE `
	var tail []audit.Entry
	err = s.readByRuns(ctx, seqs, q+`seq >= ? AND seq <= ?`, q+`seq IN `, func(rs *sql.Rows) error {
		var e audit.Entry
		if err := rs.Scan(&e.Seq, &e.Body); err != nil {
			return err
		}
		tail = append(tail, e)
		return nil
	})
	if err != nil {
		return nil, mapErr(err, "read audit records by person")
	}
	slices.SortFunc(tail, func(a, b audit.Entry) int { return cmp.Compare(a.Seq, b.Seq) })
	for i := range tail {
		if tail[i].Body, err = s.expand(ctx, tail[i].Seq, tail[i].Body); err != nil {
			return nil, err
		}
	}
	return append(out, tail...), nil
}

// entries reads (seq, body) rows and expands each body.
func (s *auditStore) entries(ctx context.Context, op, q string, args ...any) ([]audit.Entry, error) {
	out := []audit.Entry{}
	err := s.readRows(ctx, func(rows *sql.Rows) error {
		var e audit.Entry
		if err := rows.Scan(&e.Seq, &e.Body); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	}, q, args...)
	if err != nil {
		return nil, mapErr(err, op)
	}
	for i := range out {
		if out[i].Body, err = s.expand(ctx, out[i].Seq, out[i].Body); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// expand returns the canonical bytes of record seq stored as body. A body that does not
// expand (damaged) is returned as stored: its bytes then do not hash to the tree's leaf,
// and Verify names the record.
func (s *auditStore) expand(ctx context.Context, seq int64, body []byte) ([]byte, error) {
	if !audit.IsCompact(body) {
		return body, nil
	}
	out, err := audit.Expand(make([]byte, 0, 4*len(body)), seq, body, s.nameOf)
	if errors.Is(err, audit.ErrDamaged) || fault.KindOf(err) == fault.NotFound {
		return body, nil
	}
	return out, err
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

// ScanRecords implements audit.Scanner: the records after a seq as stored, with their
// stored hashes, in one range query. Verify's workers call it at once, each on its own
// connection. It reads on a pool of its own without the memory map (scan): a scan of the
// whole log through the map would make every page of it resident (a 1 GB log, 1.3 GB of
// resident memory), where the page cache bounds it.
func (s *auditStore) ScanRecords(ctx context.Context, after int64, n int, into *audit.ScanBatch) error {
	into.Reset()
	err := s.readRowsOn(ctx, s.db.scan, func(rows *sql.Rows) error {
		var seq int64
		var body, hashes sql.RawBytes
		if err := rows.Scan(&seq, &body, &hashes); err != nil {
			return err
		}
		into.Add(seq, body, hashes)
		return nil
	}, `SELECT seq, body, hashes FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?`, after, min(max(n, 1), 1<<16))
	return mapErr(err, "read audit records")
}

// Dictionary implements audit.Scanner.
func (s *auditStore) Dictionary() audit.NameOf { return s.nameOf }
