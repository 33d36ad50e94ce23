package audit

import (
	"context"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Several replicas of the hub on one database keep ONE log: each has its own Log (its own
// writer and group commit), and the store sequences their batches. A SharedStore commits a
// batch under a lock of the log held for its transaction, and hands the writer the last seq
// stored when it took the lock; the writer numbers and hashes its batch from there,
// re-reading the tree's frontier from the store when another replica appended meanwhile.
// So seqs are assigned under the lock and the tree's hashes come from the stored ones.

// SharedStore is a Store that several Logs may append to at once.
type SharedStore interface {
	Store
	// AppendShared takes the log's lock for one transaction, reads the last stored seq,
	// and stores the batch build returns for it, all or nothing. No other AppendShared
	// on the same log runs between the read and the commit. frontier reads the stored
	// hashes of the tree of size last that the writer needs when another appended
	// (the most recent complete subtree of each level); the store may have read them
	// with last, in the same round trip.
	AppendShared(ctx context.Context, build func(last int64, frontier tlog.HashReader) (*Batch, error)) error
}

// commitShared is commit on a SharedStore.
func (l *Log) commitShared(ctx context.Context, s SharedStore, recs []pending) (int64, error) {
	saved, savedSize := l.front, l.size
	var first int64
	err := s.AppendShared(ctx, func(last int64, stored tlog.HashReader) (*Batch, error) {
		l.front, l.size = saved, savedSize
		if last != l.size || l.stale {
			// Another replica appended: its records' hashes are stored, and committed
			// before the lock was ours.
			if err := l.front.load(last, stored); err != nil {
				return nil, fault.Unavailablef(err, "read the audit log's tree")
			}
			l.size, l.stale = last, false
		}
		b, err := l.build(recs)
		first = b.First
		return b, err
	})
	if err != nil {
		l.front, l.size, l.stale = saved, savedSize, true
		l.log.Error("audit batch failed", "first", first, "records", len(recs), "err", err)
		return 0, fault.Unavailablef(err, "the audit log cannot record the exchange")
	}
	l.size += int64(len(recs))
	root, err := tlog.TreeHash(l.size, &l.front)
	if err != nil { // cannot happen: the frontier holds what TreeHash reads
		l.stale = true
		return 0, fault.Wrap(err, "hash the audit log's tree")
	}
	l.head.Store(&treeHead{size: l.size, root: root})
	return first, nil
}

// sharedHead is the tree to sign: on a SharedStore, the stored tree when other replicas
// made it larger than h, so that the checkpoints of all replicas grow together.
func (l *Log) sharedHead(ctx context.Context, h *treeHead) (*treeHead, error) {
	if _, ok := l.store.(SharedStore); !ok {
		return h, nil
	}
	size, err := l.store.Size(ctx)
	if err != nil {
		return nil, fault.Unavailablef(err, "read the audit log's size")
	}
	if size <= h.size {
		return h, nil
	}
	root, err := tlog.TreeHash(size, storeHashes{ctx, l.store})
	if err != nil {
		return nil, fault.Unavailablef(err, "read the audit log's tree")
	}
	return &treeHead{size: size, root: root}, nil
}

// savedElsewhere reports whether err is the refusal of a checkpoint another replica
// saved at the same size: the same tree (one log), signed once is enough.
func (l *Log) savedElsewhere(err error) bool {
	_, ok := l.store.(SharedStore)
	return ok && fault.KindOf(err) == fault.Conflict
}
