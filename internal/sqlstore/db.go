package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// Dialects, as Dialect returns them.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// DB is an open database with its migrations applied. It is safe for concurrent use.
type DB struct {
	// Now is the store's clock: it stamps records, history entries, integrations and
	// events, and its day is "today" for EachIntegration. Set it before first use; nil
	// means time.Now().UTC().
	Now func() time.Time

	dialect string
	w       *sql.DB // writes; a single connection on SQLite
	r       *sql.DB // reads; the same pool as w on PostgreSQL
	// hot reads tables written all the time (DCI transactions), without the memory map
	// (see sqliteHot); r on PostgreSQL.
	hot     *sql.DB
	scan    *sql.DB // the audit log's range reads (sqliteScan); w on PostgreSQL
	schemas []migrated

	snap *snapshots // pooled read transactions for Files; SQLite only

	regions          regionCache  // municipalities by region, for searches
	auditLast        atomic.Int64 // the audit log's last seq as this process committed it; -1 unknown
	auditPrepared    atomic.Bool  // the audit inserts are prepared on w
	auditUnindexed   atomic.Int64 // audit records not in audit_persons yet, as this process committed them; -1 unknown
	auditMovePersons int          // at most this many person rows a move (at a record's end)
	auditMoveRows    int64        // index the persons of the audit records once this many are not
	auditNames       auditNames   // the audit log's dictionary, in memory (audit_names.go)
	auditLock        AuditLockStats
	settle           settler    // how far the event log is final (settle.go)
	applies          applyGroup // immediate declarations committed together (SQLite; employment_group.go)

	mu    sync.RWMutex
	stmts map[stmtKey]*sql.Stmt
	binds sync.Map // query with ? → query with $n
}

type stmtKey struct {
	pool  *sql.DB
	query string
}

// Open opens dsn, "sqlite:PATH" (the file and its folder are created if missing) or
// "postgres://…" / "postgresql://…", and applies the embedded migrations of schemas.
// "sqlite:PATH?exclusive=1" keeps other processes out of the file for faster reads; see
// sqliteVFS.
func Open(ctx context.Context, dsn string, schemas ...Schema) (*DB, error) {
	db := &DB{stmts: make(map[stmtKey]*sql.Stmt)}
	db.auditLast.Store(-1)
	db.auditUnindexed.Store(-1)
	db.auditMoveRows = 4096
	db.auditMovePersons = defaultAuditMovePersons
	var err error
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		db.dialect = SQLite
		db.w, db.r, db.hot, db.scan, err = openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db.dialect = Postgres
		db.w, err = openPostgres(ctx, dsn)
		db.r, db.hot, db.scan = db.w, db.w, db.w
	default:
		return nil, fault.Invalidf("dsn", "must start with sqlite:, postgres:// or postgresql://")
	}
	if err != nil {
		return nil, err
	}
	for _, s := range schemas {
		m, err := migrate(ctx, db.dialect, db.w, s)
		if err != nil {
			db.Close()
			return nil, err
		}
		db.schemas = append(db.schemas, m)
		if s == Civil {
			if err := db.ensureIndexes(ctx); err != nil { // after an interrupted bulk load
				db.Close()
				return nil, err
			}
		}
		if err := db.prepareWrites(ctx, s); err != nil {
			db.Close()
			return nil, err
		}
		if s == Hub && db.dialect == SQLite {
			db.startSnapshots()
		}
	}
	return db, nil
}

// Directory returns the directory store; the hub schema must have been opened.
func (db *DB) Directory() directory.Store { return &directoryStore{db: db} }

// Population returns the population register; the civil schema must have been opened.
// It is also an ident.Ledger.
func (db *DB) Population() population.Store { return &populationStore{db: db} }

// Ledger returns the ledger of issued numbers, kept in the civil schema.
func (db *DB) Ledger() ident.Ledger { return &populationStore{db: db} }

// Dialect returns SQLite or Postgres.
func (db *DB) Dialect() string { return db.dialect }

// Ready reports whether the database answers and its migrations are all applied. It
// reads through the reader pool only, so that a long batch holding SQLite's writer
// connection does not make the hub look down.
func (db *DB) Ready(ctx context.Context) error {
	if err := db.r.PingContext(ctx); err != nil {
		return fault.Unavailablef(err, "database is unreachable")
	}
	for _, m := range db.schemas {
		var v int64
		q := `SELECT coalesce(max(version_id), 0) FROM ` + versionTable(m.schema) + ` WHERE is_applied`
		if err := db.r.QueryRowContext(ctx, q).Scan(&v); err != nil {
			return fault.Unavailablef(err, "database migrations cannot be read")
		}
		if v < m.version {
			return fault.Unavailablef(nil, "database migrations of %s are at %d, not %d", m.schema, v, m.version)
		}
	}
	return nil
}

// Close closes the statements and the connections.
func (db *DB) Close() error {
	db.stopSnapshots()
	db.mu.Lock()
	for k, st := range db.stmts {
		st.Close()
		delete(db.stmts, k)
	}
	db.mu.Unlock()
	err := db.w.Close()
	for _, pool := range []*sql.DB{db.r, db.hot, db.scan} {
		if pool != db.w {
			if perr := pool.Close(); err == nil {
				err = perr
			}
		}
	}
	return err
}

// now returns the store's clock reading.
func (db *DB) now() time.Time {
	if db.Now != nil {
		return db.Now()
	}
	return time.Now().UTC()
}
