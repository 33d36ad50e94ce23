package sqlstore

import (
	"context"
	"database/sql"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
)

// SQLite spends a quarter of a point query on starting and ending its read transaction
// (shared-memory locks, a file-size check for the memory map). The person-directory
// look-up, the hottest query, therefore runs in read transactions that each serve many
// look-ups for at most snapshotAge. A batch committed by this process ends every such
// transaction at once (filesGen), so the process always reads its own writes; writes of
// other processes (the CLI) are seen within snapshotAge.
const snapshotAge = 2 * time.Millisecond

type snapReader struct {
	tx    *sql.Tx
	stmt  *sql.Stmt
	gen   int64
	start time.Time
}

type snapshots struct {
	pool chan *snapReader
	gen  atomic.Int64 // bumped after each committed person-directory batch
	stop chan struct{}
	done chan struct{}
}

// snapReaders is how many pooled read transactions serve look-ups; the reader pool has
// that many connections on top of those for other reads.
func snapReaders() int { return 2 * runtime.GOMAXPROCS(0) }

// startSnapshots makes the pool and the janitor that ends idle transactions, so that a
// quiet hub does not hold a read snapshot (and keep the WAL from being checkpointed).
func (db *DB) startSnapshots() {
	n := snapReaders()
	s := &snapshots{pool: make(chan *snapReader, n), stop: make(chan struct{}), done: make(chan struct{})}
	for range n {
		s.pool <- &snapReader{}
	}
	db.snap = s
	go func() {
		defer close(s.done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
			for range n {
				select {
				case r := <-s.pool:
					if r.tx != nil && time.Since(r.start) > snapshotAge {
						r.end()
					}
					s.pool <- r
				default:
				}
			}
		}
	}()
}

// stopSnapshots ends the janitor and every open transaction.
func (db *DB) stopSnapshots() {
	if db.snap == nil {
		return
	}
	close(db.snap.stop)
	<-db.snap.done
	for range cap(db.snap.pool) {
		(<-db.snap.pool).end()
	}
}

func (r *snapReader) end() {
	if r.tx != nil {
		_ = r.tx.Rollback() // a read transaction: nothing to keep
		r.tx, r.stmt = nil, nil
	}
}

// snapFiles runs the look-up in a pooled read transaction; handled is false when none is
// free, and the caller then runs it the ordinary way.
func (db *DB) snapFiles(ctx context.Context, person int64, day int32) (_ []directory.Integration, handled bool, _ error) {
	var r *snapReader
	select {
	case r = <-db.snap.pool:
	default:
		return nil, false, nil
	}
	defer func() { db.snap.pool <- r }()
	gen := db.snap.gen.Load()
	if r.tx != nil && (r.gen != gen || time.Since(r.start) > snapshotAge) {
		r.end()
	}
	if r.tx == nil {
		st, err := db.stmt(ctx, db.r, filesQuery)
		if err != nil {
			return nil, true, mapErr(err, "find files")
		}
		// The transaction outlives the request, so it must not carry the request's context.
		tx, err := db.r.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return nil, true, mapErr(err, "find files")
		}
		r.tx, r.stmt, r.gen, r.start = tx, tx.Stmt(st), gen, time.Now()
	}
	rows, err := r.stmt.QueryContext(ctx, person, day, day)
	files, err := scanIntegrations(rows, err, "find files")
	if err != nil {
		r.end()
	}
	return files, true, err
}
