package sqlstore_test

import (
	"testing"

	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

func TestSQLiteFile(t *testing.T) {
	for _, tc := range []struct {
		dsn, want string
		ok        bool
	}{
		{"sqlite:./data/hub.db", "./data/hub.db", true},
		{"sqlite:/var/lib/hub.db?exclusive=1", "/var/lib/hub.db", true},
		{"postgres://u@h/db?sslmode=disable", "", false},
	} {
		got, ok := sqlstore.SQLiteFile(tc.dsn)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("SQLiteFile(%q) = %q, %v; want %q, %v", tc.dsn, got, ok, tc.want, tc.ok)
		}
	}
}
