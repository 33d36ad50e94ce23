package sqlstore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

func TestZZAuditRaw(t *testing.T) {
	for _, n := range []int{1, 16, 128, 512} {
		s := openSQLite(t, sqlstore.Hub).Audit()
		l := audittest.OpenLog(t, &timedStore{Store: s}, audit.Config{MaxBatch: n})
		_ = l
		ts := &timedStore{Store: s}
		_ = ts
		// drive batches directly: concurrency n
		ctx := context.Background()
		rec := audittest.Record(1, audittest.Person(1))
		start := time.Now()
		total := 0
		for time.Since(start) < 2*time.Second {
			done := make(chan struct{}, n)
			for range n {
				go func() { l.Append(ctx, rec); done <- struct{}{} }()
			}
			for range n {
				<-done
			}
			total += n
		}
		t.Logf("batch %d: %.0f records/s", n, float64(total)/time.Since(start).Seconds())
	}
}

type timedStore struct {
	audit.Store
}

func TestZZAuditPhases(t *testing.T) {
	s := openSQLite(t, sqlstore.Hub).Audit()
	l := audittest.OpenLog(t, s, audit.Config{})
	ctx := context.Background()
	rec := audittest.Record(1, audittest.Person(1))
	start := time.Now()
	total := 0
	for time.Since(start) < 2*time.Second {
		done := make(chan struct{}, 128)
		for range 128 {
			go func() { l.Append(ctx, rec); done <- struct{}{} }()
		}
		for range 128 {
			<-done
		}
		total += 128
	}
	el := time.Since(start)
	t.Logf("%.0f records/s; wall %v: begin+max %v, inserts %v, commit %v, store total %v", float64(total)/el.Seconds(), el, sqlstore.ZZ[0], sqlstore.ZZ[1]-sqlstore.ZZ[0], sqlstore.ZZ[2], sqlstore.ZZ[4])
}

func TestZZAuditPragma(t *testing.T) {
	for _, p := range []string{"", "PRAGMA temp_store=MEMORY", "PRAGMA cache_size=-2000"} {
		db := openSQLite(t, sqlstore.Hub)
		if p != "" {
			if err := db.ZZExec(p); err != nil {
				t.Fatal(err)
			}
		}
		sqlstore.ZZ = [5]time.Duration{}
		l := audittest.OpenLog(t, db.Audit(), audit.Config{})
		ctx := context.Background()
		start := time.Now()
		total := 0
		for time.Since(start) < 2*time.Second {
			done := make(chan struct{}, 128)
			for i := range 128 {
				go func() { l.Append(ctx, audittest.Record(i, audittest.Person(total+i))); done <- struct{}{} }()
			}
			for range 128 {
				<-done
			}
			total += 128
		}
		el := time.Since(start)
		t.Logf("%q: %.0f records/s; wall %v: begin+max %v, inserts %v, commit %v, store total %v", p, float64(total)/el.Seconds(), el, sqlstore.ZZ[0], sqlstore.ZZ[1]-sqlstore.ZZ[0], sqlstore.ZZ[2], sqlstore.ZZ[4])
	}
}

func TestZZWriter(t *testing.T) {
	for _, np := range []int{0} {
		audit.ZZ = [4]time.Duration{}
		records := make([]audit.Record, 1024)
		for i := range records {
			records[i] = audittest.Record(i)
			if np > 0 {
				records[i] = audittest.Record(i, audittest.Person(i%np))
			}
		}
		l := audittest.OpenLog(t, openSQLite(t, sqlstore.Hub).Audit(), audit.Config{})
		ctx := context.Background()
		start := time.Now()
		var wg sync.WaitGroup
		var n atomic.Int64
		for range 128 {
			wg.Go(func() {
				for time.Since(start) < 5*time.Second {
					l.Append(ctx, records[n.Add(1)%1024])
				}
			})
		}
		wg.Wait()
		el := time.Since(start)
		t.Logf("persons %d: %.0f records/s; gather %v, commit %v (build %v)", np, float64(n.Load())/el.Seconds(), audit.ZZ[0], audit.ZZ[1], audit.ZZ[2])
	}
}
