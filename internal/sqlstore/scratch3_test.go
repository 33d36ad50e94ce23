package sqlstore_test

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

func TestScratchRaw(t *testing.T) {
	dsns := []string{
		"/tmp/crossroads-bench-files-v1.db?_pragma=mmap_size(1073741824)&_query_only=1",
		"/tmp/crossroads-copy.db?vfs=unix-excl&_pragma=mmap_size(1073741824)&_query_only=1",
	}
	persons := make([]int64, 1_000_000)
	for i := range persons {
		persons[i], _ = strconv.ParseInt(benchPerson(i), 10, 64)
	}
	ctx := context.Background()
	var sts []*sql.Stmt
	for _, dsn := range dsns {
		db, _ := sql.Open("sqlite", dsn)
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		defer db.Close()
		st, err := db.PrepareContext(ctx, "SELECT institution, capacity, begin_date, end_date, created_at, created_by FROM integration WHERE person = ? AND begin_date <= ? AND end_date >= ? ORDER BY person, institution, capacity, begin_date")
		if err != nil {
			t.Fatal(err)
		}
		sts = append(sts, st)
	}
	best := make([]time.Duration, len(dsns))
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 12; round++ {
		for k, st := range sts {
			c0 := cpuTime()
			const n = 20_000
			for range n {
				rows, err := st.QueryContext(ctx, persons[r.IntN(len(persons))], 20261124, 20261124)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
				}
				rows.Close()
			}
			if d := (cpuTime() - c0) / n; best[k] == 0 || d < best[k] {
				best[k] = d
			}
		}
	}
	for k := range dsns {
		t.Logf("%s: best %v cpu/op", dsns[k], best[k])
	}
}
