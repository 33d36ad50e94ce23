package sqlstore

import (
	"context"
	"sync/atomic"
	"time"

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
func (s *sharedAuditStore) AppendShared(ctx context.Context, build func(last int64) (*audit.Batch, error)) error {
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
	var last, moved int64
	q := `SELECT COALESCE((SELECT MAX(seq) FROM audit_records), 0), (SELECT moved FROM audit_index)`
	if err := tx.QueryRowContext(ctx, q).Scan(&last, &moved); err != nil {
		return mapErr(err, "append audit records")
	}
	step(stepEnd)
	b, err := build(last)
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
