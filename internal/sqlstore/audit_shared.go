package sqlstore

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// sharedAuditStore is the audit store on PostgreSQL, where several replicas of the hub
// append to one log (audit.SharedStore): each batch's transaction takes a transaction-
// level advisory lock of the log's schema first, then reads the log's end, so seqs are
// given out under the lock and a replica never numbers a batch from a stale end. The lock
// is held for the inserts and the commit only (a few milliseconds a batch of 512).
type sharedAuditStore struct{ auditStore }

// auditLockSQL takes the log's lock: one key per schema, so that logs in other schemas
// of the same database (tests, another hub) do not wait for each other.
const auditLockSQL = `SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '.audit_records', 0))`

// AppendShared implements audit.SharedStore.
func (s *sharedAuditStore) AppendShared(ctx context.Context, build func(last int64, frontier tlog.HashReader) (*audit.Batch, error)) error {
	if err := s.prepare(ctx); err != nil {
		return err
	}
	tx, err := s.db.begin(ctx, "append audit records")
	if err != nil {
		return err
	}
	defer tx.Rollback()
	asked := time.Now()
	if _, err := tx.ExecContext(ctx, auditLockSQL); err != nil {
		return mapErr(err, "lock the audit log")
	}
	locked := time.Now()
	defer func() { s.db.auditLock.add(locked.Sub(asked), time.Since(locked)) }()
	step := s.db.auditLock.stepper(locked)
	last, moved, front, err := s.end(ctx, tx)
	if err != nil {
		return err
	}
	step(stepEnd)
	b, err := build(last, front)
	if err != nil {
		return err
	}
	step(stepBuild)
	if b.First != last+1 {
		return fault.Conflictf("seq", "the audit log holds %d records; the batch starts at %d", last, b.First)
	}
	packer, err := s.write(ctx, tx, *b)
	if err != nil {
		return err
	}
	step(stepWrite)
	// Seqs have no gaps: the records not in the person index yet are those after moved.
	s.db.auditUnindexed.Store(last - moved)
	unindexed, err := s.index(ctx, tx, int64(len(b.Records)))
	if err != nil {
		return err
	}
	step(stepIndex)
	if err := commit(tx, "append audit records"); err != nil {
		return err
	}
	step(stepCommit)
	packer.done()
	s.db.auditLast.Store(-1) // other replicas append too
	s.db.auditUnindexed.Store(unindexed)
	return nil
}

// auditEndSQL reads, in one round trip, the log's end, how far the person index goes,
// and the rows holding the tree's frontier at the end: for each level l, the most
// recent complete subtree of 2^l leaves, whose hash the record ending it stores, at seq
// (end >> l) << l.
const auditEndSQL = `WITH e AS (SELECT COALESCE(MAX(seq), 0) AS n FROM audit_records)
SELECT e.n, (SELECT moved FROM audit_index), r.seq, r.hashes FROM e
LEFT JOIN audit_records r ON r.seq = ANY (ARRAY(SELECT (e.n >> l) << l FROM generate_series(0, 62) AS l WHERE (e.n >> l) > 0))`

// end reads the log's end and its frontier's hashes (a reader of them that asks the
// store for those its rows did not hold, records of an older layout).
func (s *sharedAuditStore) end(ctx context.Context, tx *sql.Tx) (last, moved int64, front tlog.HashReader, err error) {
	rows, err := tx.QueryContext(ctx, auditEndSQL)
	if err != nil {
		return 0, 0, nil, mapErr(err, "append audit records")
	}
	defer rows.Close()
	found := map[int64]tlog.Hash{}
	for rows.Next() {
		var seq sql.NullInt64
		var raw []byte
		if err := rows.Scan(&last, &moved, &seq, &raw); err != nil {
			return 0, 0, nil, mapErr(err, "append audit records")
		}
		if seq.Valid && raw != nil {
			addRecordHashes(found, seq.Int64, raw)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, 0, nil, mapErr(err, "append audit records")
	}
	return last, moved, frontHashes{ctx: ctx, s: s, found: found}, nil
}

// frontHashes reads the frontier's hashes from the rows read with the log's end, and
// any other from the store.
type frontHashes struct {
	ctx   context.Context
	s     *sharedAuditStore
	found map[int64]tlog.Hash
}

func (f frontHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := f.found[x]
		if !ok {
			return f.s.ReadHashes(f.ctx, indexes)
		}
		out[i] = h
	}
	return out, nil
}

// AuditLockStats is how this process's appends to a shared audit log used its lock:
// batches, the time they waited for it and the time they held it (read the end, insert,
// index, commit). Held time summed over the replicas close to the wall time means the
// lock is what limits; far below, something else does.
type AuditLockStats struct {
	Batches    atomic.Int64
	Wait, Held atomic.Int64 // nanoseconds
	// Steps is the held time by step: reading the log's end, building the batch (the
	// tree's frontier read again when another replica appended, the records numbered and
	// hashed), writing its rows, indexing, committing (nanoseconds).
	Steps [stepCount]atomic.Int64
}

// The steps of a batch under the lock.
const (
	stepEnd = iota
	stepBuild
	stepWrite
	stepIndex
	stepCommit
	stepCount
)

// stepper returns a function that charges the time since the last step (from start) to
// a step.
func (a *AuditLockStats) stepper(start time.Time) func(step int) {
	return func(step int) {
		now := time.Now()
		a.Steps[step].Add(int64(now.Sub(start)))
		start = now
	}
}

func (a *AuditLockStats) add(wait, held time.Duration) {
	a.Batches.Add(1)
	a.Wait.Add(int64(wait))
	a.Held.Add(int64(held))
}

// AuditLock is how the appends through this handle used the shared audit log's lock.
func (db *DB) AuditLock() *AuditLockStats { return &db.auditLock }
