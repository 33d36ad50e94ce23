package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
)

// Scratch makes a new schema in the PostgreSQL database of dsn, for a benchmark that
// must not meet an earlier run's rows nor leave its own: it returns the DSN with that
// schema first in the search path, and drop, which removes the schema and all it holds.
func Scratch(ctx context.Context, dsn string) (scratch string, drop func() error, err error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, err
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 8)
	rand.Read(b)
	name := "scratch_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
		admin.Close()
		return "", nil, mapErr(err, "create a scratch schema")
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), func() error {
		defer admin.Close()
		_, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+name+" CASCADE")
		return mapErr(err, "drop a scratch schema")
	}, nil
}
