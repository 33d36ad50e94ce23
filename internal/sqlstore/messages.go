package sqlstore

import (
	"context"
	"sync/atomic"
	"time"
)

// SyncMessages remembers the message ids of synchronous calls in the hub schema, for the
// replicas of the hub that share it (httpapi.MessageIDs).
func (db *DB) SyncMessages() *SyncMessages { return &SyncMessages{db: db} }

// SyncMessages is the shared memory of synchronous message ids.
type SyncMessages struct {
	db     *DB
	purged atomic.Int64 // when rows older than the window were last deleted (Unix ns)
}

// claimMessage inserts the id, or takes over a row older than the window; it changes no
// row when the id was seen within the window.
const claimMessage = `INSERT INTO sync_message (client, message_id, seen) VALUES (?, ?, ?)
ON CONFLICT (client, message_id) DO UPDATE SET seen = excluded.seen WHERE sync_message.seen < ?`

// Claim records that client sent id at now, and reports whether it is the first time
// within window (false: a repeat). Rows older than the window are purged about once a
// window.
func (m *SyncMessages) Claim(ctx context.Context, client, id string, now time.Time, window time.Duration) (bool, error) {
	cutoff := now.Add(-window).UnixNano()
	r, err := m.db.w.ExecContext(ctx, m.db.q(claimMessage), client, id, now.UnixNano(), cutoff)
	if err != nil {
		return false, mapErr(err, "remember a message id")
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, mapErr(err, "remember a message id")
	}
	if last := m.purged.Load(); now.UnixNano()-last > int64(window) && m.purged.CompareAndSwap(last, now.UnixNano()) {
		// A purge that fails is tried again a window later; the rows it leaves are
		// taken over by the insert when their ids come again.
		m.db.w.ExecContext(ctx, m.db.q(`DELETE FROM sync_message WHERE seen < ?`), cutoff)
	}
	return n == 1, nil
}
