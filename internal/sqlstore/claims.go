package sqlstore

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Claims returns the ids that may be used once within a window, kept in the hub schema
// for the replicas of the hub that share it: synchronous message ids, the jti of client
// assertions (httpapi.Claims, oauth.Claims).
func (db *DB) Claims() *Claims { return &Claims{db: db} }

// Claims is the shared memory of ids used once.
type Claims struct {
	db     *DB
	purged atomic.Int64 // when rows older than a window were last deleted (Unix ns)
}

// claimID inserts the id, or takes over a row older than the window; it changes no row
// when the id was claimed within the window.
const claimID = `INSERT INTO claim (scope, id, at) VALUES (?, ?, ?)
ON CONFLICT (scope, id) DO UPDATE SET at = excluded.at WHERE claim.at < ?`

// claimHorizon is the longest window; rows older than it are purged, about once a
// horizon.
const claimHorizon = time.Hour

// Claim records that id of scope was used at now, and reports whether it is the first
// time within window (false: a repeat). window is at most an hour.
func (c *Claims) Claim(ctx context.Context, scope, id string, now time.Time, window time.Duration) (bool, error) {
	if window <= 0 || window > claimHorizon {
		return false, fault.Invalidf("window", "must be from 1 ns to %v, not %v", claimHorizon, window)
	}
	cutoff := now.Add(-window).UnixNano()
	r, err := c.db.w.ExecContext(ctx, c.db.q(claimID), scope, id, now.UnixNano(), cutoff)
	if err != nil {
		return false, mapErr(err, "claim an id")
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, mapErr(err, "claim an id")
	}
	if last := c.purged.Load(); now.UnixNano()-last > int64(claimHorizon) && c.purged.CompareAndSwap(last, now.UnixNano()) {
		// A purge that fails is tried again an hour later; the rows it leaves are taken
		// over by the insert when their ids come again.
		c.db.w.ExecContext(ctx, c.db.q(`DELETE FROM claim WHERE at < ?`), now.Add(-claimHorizon).UnixNano())
	}
	return n == 1, nil
}
