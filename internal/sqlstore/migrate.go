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
	// Employment is the employment source: relations, declarations, quarterly wage lines.
	// It lives beside Civil (the built-in sources share one database): a declaration
	// appends its social-registry event in its own transaction.
	Employment Schema = "employment"
	// Bank is the demo bank's (#21): accounts and postings, a bank's own data, in a
	// database of its own in the demo.
	Bank Schema = "bank"
	// G2P is the SP-MIS's (#21): registrations, beneficiaries, the mapper, payment
	// instructions, the programme's own data.
	G2P Schema = "g2p"
	// Rights holds the rights engine's decisions (issue #19), beside Civil: decisions
	// become events of the built-in sources' log.
	Rights Schema = "rights"
)

//go:embed migrations
var migrations embed.FS

// migrated is a schema with the version its migrations bring it to.
type migrated struct {
	schema  Schema
	version int64
}

// versionTable is the goose table recording the migrations of s.
func versionTable(s Schema) string { return "goose_" + string(s) }

// migrate applies the migrations of schema, recording them in its version table, and
// returns the version reached.
func migrate(ctx context.Context, dialect string, db *sql.DB, s Schema) (migrated, error) {
	if s != Hub && s != Civil && s != Employment && s != Bank && s != G2P && s != Rights {
		return migrated{}, fault.Invalidf("schema", "%q is not a schema (hub, civil, employment, bank, g2p, rights)", string(s))
	}
	p, err := provider(dialect, db, s)
	if err != nil {
		return migrated{}, fault.Wrap(err, "migrate "+string(s))
	}
	if _, err := p.Up(ctx); err != nil {
		return migrated{}, fault.Wrap(err, "migrate "+string(s))
	}
	_, target, err := p.GetVersions(ctx)
	if err != nil {
		return migrated{}, fault.Wrap(err, "migrate "+string(s))
	}
	return migrated{s, target}, nil
}

// provider returns the goose provider of schema s.
func provider(dialect string, db *sql.DB, s Schema) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, "migrations/"+dialect+"/"+string(s))
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{
		goose.WithTableName(versionTable(s)),
		goose.WithDisableGlobalRegistry(true),
	}
	if s == Hub {
		opts = append(opts, goose.WithGoMigrations(auditCompactMigration(dialect)))
	}
	gd := goose.DialectSQLite3
	if dialect == Postgres {
		gd = goose.DialectPostgres
		// Hubs starting together must not migrate the same schema twice.
		locker, err := lock.NewPostgresSessionLocker(
			lock.WithLockID(lockID(s)), lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(gd, db, fsys, opts...)
}

// lockID is the advisory lock of a schema's migrations.
func lockID(s Schema) int64 {
	return int64(crc64.Checksum([]byte("crossroads/"+string(s)), crc64.MakeTable(crc64.ISO)) >> 1)
}
