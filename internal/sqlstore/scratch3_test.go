package sqlstore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"
	"math/rand/v2"
	"strconv"
)

func TestScratchRaw(t *testing.T) {
	path := filepath.Join(os.TempDir(), "crossroads-bench-files-v1.db")
	for _, dsn := range []string{
		path + "?_pragma=mmap_size(1073741824)&_query_only=1",
		path + "?vfs=unix-excl&_pragma=mmap_size(1073741824)&_query_only=1",
		path + "?vfs=unix-excl&_pragma=cache_size(-524288)&_query_only=1",
	} {
		db, _ := sql.Open("sqlite", dsn)
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		ctx := context.Background()
		persons := make([]int64, 1_000_000)
		for i := range persons { persons[i], _ = strconv.ParseInt(benchPerson(i), 10, 64) }
		trivial, _ := db.PrepareContext(ctx, "SELECT 1")
		files, _ := db.PrepareContext(ctx, "SELECT institution, capacity, begin_date, end_date, created_at, created_by FROM integration WHERE person = ? AND begin_date <= ? AND end_date >= ? ORDER BY person, institution, capacity, begin_date")
		count, _ := db.PrepareContext(ctx, "SELECT count(*) FROM integration WHERE person = ?")
		r := rand.New(rand.NewPCG(1, 2))
		for round := 0; round < 3; round++ {
			for _, c := range []struct{ name string; st *sql.Stmt; args func() []any }{
				{"trivial", trivial, func() []any { return nil }},
				{"count", count, func() []any { return []any{persons[r.IntN(len(persons))]} }},
				{"files", files, func() []any { return []any{persons[r.IntN(len(persons))], 20261124, 20261124} }},
			} {
				c0, w0 := cpuTime(), time.Now()
				const n = 50_000
				for range n {
					rows, err := c.st.QueryContext(ctx, c.args()...)
					if err != nil { t.Fatal(err) }
					for rows.Next() {}
					rows.Close()
				}
				t.Logf("%s round %d %s: %v wall/op, %v cpu/op", dsn[len(path):], round, c.name, time.Since(w0)/n, (cpuTime()-c0)/n)
			}
		}
		db.Close()
	}
}
