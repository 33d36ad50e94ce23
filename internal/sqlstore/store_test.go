package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx" for the schema admin connection

	"github.com/crossroads-hub/crossroads/internal/benefits"
	"github.com/crossroads-hub/crossroads/internal/benefits/benefitstest"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/directory/directorytest"
	"github.com/crossroads-hub/crossroads/internal/employment/employmenttest"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/population/populationtest"
	"github.com/crossroads-hub/crossroads/internal/rights"
	"github.com/crossroads-hub/crossroads/internal/rights/rightstest"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
	"github.com/crossroads-hub/crossroads/internal/txn"
	"github.com/crossroads-hub/crossroads/internal/txn/txntest"
)

// backends open a fresh, empty database per test.
var backends = []struct {
	name string
	open func(t testing.TB, schemas ...sqlstore.Schema) *sqlstore.DB
}{
	{"sqlite", openSQLite},
	{"postgres", openPostgres},
}

func TestDirectory(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			directorytest.Run(t, func(t *testing.T) directory.Store { return b.open(t, sqlstore.Hub).Directory() })
		})
	}
}

func TestPopulation(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			populationtest.Run(t, func(t *testing.T) population.Store { return b.open(t, sqlstore.Civil).Population() })
		})
	}
}

func TestLedger(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			populationtest.RunLedger(t, func(t *testing.T) ident.Ledger { return b.open(t, sqlstore.Civil).Ledger() })
		})
	}
}

// openSQLite opens a new file in the test's temporary folder.
func openSQLite(t testing.TB, schemas ...sqlstore.Schema) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "test.db"), schemas...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openPostgres opens the database of CROSSROADS_TEST_POSTGRES with a new schema of its
// own first in the search path, and drops the schema after the test.
func openPostgres(t testing.TB, schemas ...sqlstore.Schema) *sqlstore.DB {
	t.Helper()
	return openPostgresReplicas(t, 1, schemas...)[0]
}

// openPostgresReplicas opens n handles on one new schema, as n hub processes on one
// database would.
func openPostgresReplicas(t testing.TB, n int, schemas ...sqlstore.Schema) []*sqlstore.DB {
	t.Helper()
	dsn := os.Getenv("CROSSROADS_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("CROSSROADS_TEST_POSTGRES not set")
	}
	ctx := context.Background()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := "test_" + randomHex(8)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	dbs := make([]*sqlstore.DB, n)
	for i := range dbs {
		db, err := sqlstore.Open(ctx, u.String(), schemas...)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { db.Close() }) // runs before the schema is dropped
		dbs[i] = db
	}
	return dbs
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func TestTxns(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			txntest.Run(t, func(t *testing.T) txn.Store { return b.open(t, sqlstore.Hub).Txns() })
		})
	}
}

func TestEmployment(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			employmenttest.Run(t, func(t *testing.T) employmenttest.Stores {
				db := b.open(t, sqlstore.Civil, sqlstore.Employment)
				return employmenttest.Stores{Employment: db.Employment(), Population: db.Population()}
			})
		})
	}
}

func TestBenefits(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			benefitstest.Run(t, func(t *testing.T) benefits.Store { return b.open(t, sqlstore.Civil, sqlstore.Rights).Benefits() })
		})
	}
}

func TestRights(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			rightstest.Run(t, func(t *testing.T) rights.Store { return b.open(t, sqlstore.Civil, sqlstore.Rights).Rights() })
		})
	}
}
