package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"hash/crc64"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Schema names a set of tables with its own migrations and version table.
type Schema string

// The schemas of the hub.
const (
	Hub   Schema = "hub"   // directory records, history, person directory
	Civil Schema = "civil" // population register: persons, events, places, issued numbers
)

//go:embed migrations
var migrations embed.FS

// migrate applies the migrations of schema, recording them in goose_<schema>.
func migrate(ctx context.Context, dialect string, db *sql.DB, s Schema) (*goose.Provider, error) {
	if s != Hub && s != Civil {
		return nil, fault.Invalidf("schema", "%q is not a schema (hub, civil)", string(s))
	}
	fsys, err := fs.Sub(migrations, "migrations/"+dialect+"/"+string(s))
	if err != nil {
		return nil, fault.Wrap(err, "read migrations")
	}
	opts := []goose.ProviderOption{
		goose.WithTableName("goose_" + string(s)),
		goose.WithDisableGlobalRegistry(true),
	}
	gd := goose.DialectSQLite3
	if dialect == Postgres {
		gd = goose.DialectPostgres
		// Hubs starting together must not migrate the same schema twice.
		locker, err := lock.NewPostgresSessionLocker(
			lock.WithLockID(lockID(s)), lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, fault.Wrap(err, "migrate "+string(s))
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, db, fsys, opts...)
	if err != nil {
		return nil, fault.Wrap(err, "migrate "+string(s))
	}
	if _, err := p.Up(ctx); err != nil {
		return nil, fault.Wrap(err, "migrate "+string(s))
	}
	return p, nil
}

// lockID is the advisory lock of a schema's migrations.
func lockID(s Schema) int64 {
	return int64(crc64.Checksum([]byte("crossroads/"+string(s)), crc64.MakeTable(crc64.ISO)) >> 1)
}
