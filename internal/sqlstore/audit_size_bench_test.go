package sqlstore_test

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// BenchmarkAuditSize appends CROSSROADS_AUDIT_SIZE_RECORDS (default 200,000) exchange
// records (audittest.Exchange) from 64 goroutines, as the hub's group commit stores
// them, and reports what the SQLite file holds per record, by table and index (the
// dbstat virtual table). b.N is not used: run it with -benchtime 1x.
//
//	go test -run '^$' -bench AuditSize -benchtime 1x ./internal/sqlstore/
func BenchmarkAuditSize(b *testing.B) {
	size := 200_000
	if s := os.Getenv("CROSSROADS_AUDIT_SIZE_RECORDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("CROSSROADS_AUDIT_SIZE_RECORDS=%q: want a positive number", s)
		}
		size = n
	}
	ctx := context.Background()
	db := openSQLite(b, sqlstore.Hub)
	l := audittest.OpenLog(b, db.Audit(), audit.Config{})
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 64 {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(size); i = next.Add(1) {
				if _, err := l.Append(ctx, audittest.Exchange(int(i))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := l.Close(ctx); err != nil {
		b.Fatal(err)
	}
	rows, err := db.RawQuery(ctx, `SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var total int64
	for rows.Next() {
		var name string
		var bytes int64
		if err := rows.Scan(&name, &bytes); err != nil {
			b.Fatal(err)
		}
		total += bytes
		if bytes >= int64(size) { // tables of a byte a record or more
			b.ReportMetric(float64(bytes)/float64(size), name+"-B/record")
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(total)/float64(size), "total-B/record")
	one, err := json.Marshal(audittest.Exchange(1))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(one)), "canonical-B/record")
}
