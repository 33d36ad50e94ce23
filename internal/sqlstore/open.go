package sqlstore

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/perm"
)

// SQLite settings: WAL lets readers run beside the writer; synchronous=NORMAL is durable
// across application crashes and only loses the last commits on power loss; the memory
// map and larger caches serve point lookups without a read system call.
//
// The memory map is for what is mostly read (the person directory, the civil register).
// A read transaction that finds the log changed since the connection's last one drops
// its cache and unmaps the whole file, to map it again page by page: reading the DCI
// transactions, written with every asynchronous call, that was a munmap and page faults
// on nearly every read (a quarter of a millisecond a read, and async search at 1,000/s
// fell behind). Those tables are read through a small pool without the map.
const (
	sqliteBase   = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	sqliteCommon = sqliteBase + "&_pragma=mmap_size(1073741824)"
	sqliteWriter = sqliteCommon + "&_txlock=immediate&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-16384)&_pragma=temp_store(MEMORY)"
	sqliteReader = sqliteCommon + "&_pragma=cache_size(-65536)&_query_only=1"
	sqliteHot    = sqliteBase + "&_pragma=cache_size(-16384)&_query_only=1"
	// sqliteScan is for the audit log's range reads (audit.Scanner, Verify's workers),
	// without the map: each page is read once, so a small cache — 16 MB a connection
	// made a worker cost about 50 MB of memory and no speed.
	sqliteScan = sqliteBase + "&_pragma=cache_size(-2048)&_query_only=1"
)

// sqliteVFS returns the start of the driver's query string. With exclusive, this process
// becomes the only one that may open the file: the WAL index then lives in process
// memory instead of a shared-memory file locked with fcntl, which saves three system
// calls per read transaction, a quarter of the CPU time of a lookup (measured 17 µs →
// 13 µs per Files query). Another process opening the file (the CLI beside a running
// hub) waits busy_timeout and fails with "database is locked", hence the opt-in.
func sqliteVFS(exclusive bool) string {
	if exclusive && runtime.GOOS != "windows" {
		return "?vfs=unix-excl&"
	}
	return "?"
}

// SQLiteFile is the file of an SQLite DSN ("sqlite:PATH[?options]"); ok is false for
// another store. The path is not checked: Open does that.
func SQLiteFile(dsn string) (path string, ok bool) {
	path, ok = strings.CutPrefix(dsn, "sqlite:")
	path, _, _ = strings.Cut(path, "?")
	return path, ok
}

// sqliteOptions are the options of an SQLite DSN.
type sqliteOptions struct {
	exclusive bool // see sqliteVFS
	full      bool // synchronous=FULL: a commit survives the loss of power (sync=full)
}

// parseSQLite splits "PATH[?exclusive=1][&sync=full]".
func parseSQLite(dsn string) (path string, o sqliteOptions, err error) {
	path, query, _ := strings.Cut(dsn, "?")
	if path == "" || strings.Contains(path, "#") {
		return "", o, fault.Invalidf("dsn", "sqlite: needs a file path without '?' or '#'")
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return "", o, fault.Invalidf("dsn", "sqlite: the options after '?' are not a query string")
	}
	for k, v := range params {
		switch {
		case len(v) != 1:
			return "", o, fault.Invalidf("dsn", "sqlite: option %s given %d times", k, len(v))
		case k == "exclusive":
			if o.exclusive, err = strconv.ParseBool(v[0]); err != nil {
				return "", o, fault.Invalidf("dsn", "sqlite: exclusive must be 1 or 0")
			}
		case k == "sync" && (v[0] == "normal" || v[0] == "full"):
			o.full = v[0] == "full"
		case k == "sync":
			return "", o, fault.Invalidf("dsn", "sqlite: sync must be normal or full")
		default:
			return "", o, fault.Invalidf("dsn", "sqlite: the options are exclusive=1 and sync=full")
		}
	}
	return path, o, nil
}

// openSQLite opens the single writer connection, which turns on WAL, then the reader
// pool and the pool for tables written all the time (hot).
func openSQLite(ctx context.Context, dsn string) (w, r, hot, scan *sql.DB, err error) {
	path, o, err := parseSQLite(dsn)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if err := private(path); err != nil {
		return nil, nil, nil, nil, err
	}
	vfs := sqliteVFS(o.exclusive)
	writer := sqliteWriter
	if o.full {
		writer = strings.Replace(writer, "synchronous(NORMAL)", "synchronous(FULL)", 1)
	}
	if w, err = openPool(ctx, "sqlite", path+vfs+writer, 1); err != nil {
		return nil, nil, nil, nil, err
	}
	if r, err = openPool(ctx, "sqlite", path+vfs+sqliteReader, max(4, runtime.GOMAXPROCS(0))+snapReaders()); err != nil {
		w.Close()
		return nil, nil, nil, nil, err
	}
	if hot, err = openPool(ctx, "sqlite", path+vfs+sqliteHot, max(4, runtime.GOMAXPROCS(0))); err != nil {
		w.Close()
		r.Close()
		return nil, nil, nil, nil, err
	}
	// Opened at the first scan (sql.Open connects lazily): most stores never scan.
	if scan, err = sql.Open("sqlite", path+vfs+sqliteScan); err != nil {
		w.Close()
		r.Close()
		hot.Close()
		return nil, nil, nil, nil, fault.Wrap(err, "open the database")
	}
	scan.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	scan.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)))
	return w, r, hot, scan, nil
}

// private makes the database file and its folder before SQLite does, and tightens those
// an older version left readable: SQLite creates the file with mode 0644 less the umask,
// and each -wal, -shm or -journal file with the mode of the database file, whatever the
// umask.
func private(path string) error {
	if err := perm.MkdirAll(filepath.Dir(path)); err != nil {
		return fault.Wrap(err, "create the database folder")
	}
	f, err := perm.OpenFile(path, os.O_RDWR|os.O_CREATE)
	if err != nil {
		return fault.Wrap(err, "create the database file")
	}
	f.Close()
	if err := perm.Tighten(path+"-wal", path+"-shm", path+"-journal"); err != nil {
		return fault.Wrap(err, "make the database's files private")
	}
	return nil
}

// openPool opens a pool of n connections that stay open, so their caches stay warm.
func openPool(ctx context.Context, driver, dsn string, n int) (*sql.DB, error) {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fault.Wrap(err, "open the database")
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fault.Unavailablef(err, "cannot open the database")
	}
	return db, nil
}

// openPostgres opens a database/sql pool over pgx; pgx caches prepared statements per
// connection by itself.
func openPostgres(ctx context.Context, dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx redacts the password in its parse errors.
		return nil, fault.Invalidf("dsn", "%v", err)
	}
	db := stdlib.OpenDB(*cfg)
	n := max(8, 4*runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fault.Unavailablef(err, "cannot reach the database")
	}
	return db, nil
}
