package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/lease"
)

// Leases returns the leases of the replicas on this database: on PostgreSQL, session
// advisory locks, each held on a connection of its own; on SQLite, which one process
// opens, lease.Local.
func (db *DB) Leases() lease.Locker {
	if db.dialect != Postgres {
		return lease.Local{}
	}
	return pgLocker{db}
}

type pgLocker struct{ db *DB }

// How a held lease is watched: its connection is pinged every leasePing, each ping
// given leasePing*2; a ping that fails loses the lease. The server, for its part, closes
// the session of a holder that no longer answers TCP keepalives (about 5 s), which frees
// the lock for another replica; a holder's own pings fail before that.
const leasePing = time.Second

// leaseSetup makes the server notice a dead holder within seconds rather than the
// system's default of hours.
var leaseSetup = []string{
	`SET tcp_keepalives_idle = 2`, `SET tcp_keepalives_interval = 1`, `SET tcp_keepalives_count = 3`,
}

// TryAcquire implements lease.Locker.
func (l pgLocker) TryAcquire(ctx context.Context, name string) (lease.Held, bool, error) {
	conn, err := l.db.w.Conn(ctx)
	if err != nil {
		return nil, false, mapErr(err, "take a lease")
	}
	for _, q := range leaseSetup {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			conn.Close()
			return nil, false, mapErr(err, "take a lease")
		}
	}
	var ok bool
	q := `SELECT pg_try_advisory_lock(hashtextextended(current_schema() || '.lease.' || $1, 0))`
	if err := conn.QueryRowContext(ctx, q, name).Scan(&ok); err != nil {
		conn.Close()
		return nil, false, mapErr(err, "take a lease")
	}
	if !ok {
		conn.Close()
		return nil, false, nil
	}
	h := &pgHeld{conn: conn, name: name, lost: make(chan struct{}), stop: make(chan struct{})}
	h.wg.Add(1)
	go h.watch()
	return h, true, nil
}

// pgHeld is a lease held on conn.
type pgHeld struct {
	// mu makes the session's users (the pings, the confirmations of several lanes) take
	// turns: one connection carries one query at a time.
	mu       sync.Mutex
	conn     *sql.Conn
	name     string
	lost     chan struct{}
	stop     chan struct{}
	once     sync.Once
	lostOnce sync.Once
	wg       sync.WaitGroup
}

func (h *pgHeld) Lost() <-chan struct{} { return h.lost }

func (h *pgHeld) lose() { h.lostOnce.Do(func() { close(h.lost) }) }

// leaseHeldSQL asks whether this session holds the lease's advisory lock.
const leaseHeldSQL = `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
	AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(current_schema() || '.lease.' || $1, 0))`

// Confirm implements lease.Confirmer: one round trip on the lease's own session, which
// fails when the session is gone (the server freed the lock) and answers false when the
// session no longer holds it.
func (h *pgHeld) Confirm(ctx context.Context) error {
	select {
	case <-h.lost:
		return lease.ErrLost
	default:
	}
	qctx, cancel := context.WithTimeout(ctx, 2*leasePing)
	defer cancel()
	var held bool
	h.mu.Lock()
	err := h.conn.QueryRowContext(qctx, leaseHeldSQL, h.name).Scan(&held)
	h.mu.Unlock()
	if err != nil || !held {
		if ctx.Err() != nil {
			return ctx.Err() // the caller gave up: that says nothing of the lease
		}
		h.lose()
		return lease.ErrLost
	}
	return nil
}

// watch pings the connection until Release; a failed ping loses the lease.
func (h *pgHeld) watch() {
	defer h.wg.Done()
	t := time.NewTicker(leasePing)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*leasePing)
		h.mu.Lock()
		err := h.conn.PingContext(ctx)
		h.mu.Unlock()
		cancel()
		if err != nil {
			h.lose()
			return
		}
	}
}

// Release ends the session's hold: the connection is closed, not returned to the pool,
// so the lock goes with it whatever state the session is in.
func (h *pgHeld) Release() {
	h.once.Do(func() {
		close(h.stop)
		h.wg.Wait()
		h.mu.Lock()
		defer h.mu.Unlock()
		h.conn.Raw(func(any) error { return driver.ErrBadConn }) // discarded, not pooled
		h.conn.Close()
	})
}
