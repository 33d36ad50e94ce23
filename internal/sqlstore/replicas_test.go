package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// TestAuditReplicas appends from two logs on one PostgreSQL schema, as two hub processes
// do (issue #17): every Append succeeds, the seqs are 1 to N without a repeat, both sign
// checkpoints, and the store is one log that verifies.
func TestAuditReplicas(t *testing.T) {
	ctx := context.Background()
	dbs := openPostgresReplicas(t, 2, sqlstore.Hub)
	logs := make([]*audit.Log, len(dbs))
	for i, db := range dbs {
		logs[i] = audittest.OpenLog(t, db.Audit(), audit.Config{})
	}
	const perWorker, workers = 60, 8
	var mu sync.Mutex
	var seqs []int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := logs[w%len(logs)]
			for i := range perWorker {
				n := w*perWorker + i
				seq, err := l.Append(ctx, audittest.Record(n, audittest.Person(n)))
				if err != nil {
					t.Errorf("replica %d: Append(%d): %v", w%len(logs), n, err)
					return
				}
				mu.Lock()
				seqs = append(seqs, seq)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	const total = perWorker * workers
	slices.Sort(seqs)
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("acknowledged seqs = %v…; want 1 to %d, each once", seqs[:min(len(seqs), i+3)], total)
		}
	}
	for i, l := range logs {
		cp, err := l.CheckpointNow(ctx)
		if err != nil || cp.Size != total {
			t.Errorf("replica %d: CheckpointNow = size %d, %v; want %d", i, cp.Size, err, total)
		}
	}
	_, vkey := audittest.Signer(t, 1)
	rep, err := audit.Verify(ctx, dbs[0].Audit(), []string{vkey}, nil)
	if err != nil || rep.Records != total {
		t.Fatalf("Verify = %+v, %v; want %d records", rep, err, total)
	}
	for i := range 3 {
		p := audittest.Person(i)
		rs, err := logs[1].ByPerson(ctx, p, 0, 100)
		if err != nil || len(rs) == 0 {
			t.Errorf("ByPerson(%s) = %d records, %v; want its records", p, len(rs), err)
		}
	}
}

// BenchmarkAuditReplicas appends to one log on PostgreSQL through 1 and 2 logs (hub
// processes), from 64 goroutines a processor spread over them; every record is committed
// before its Append returns. The replicas' batches take the log's lock in turn.
func BenchmarkAuditReplicas(b *testing.B) {
	records := make([]audit.Record, 1024)
	for i := range records {
		records[i] = audittest.Record(i, audittest.Person(i))
	}
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			ctx := context.Background()
			var logs []*audit.Log
			for _, db := range openPostgresReplicas(b, n, sqlstore.Hub) {
				logs = append(logs, audittest.OpenLog(b, db.Audit(), audit.Config{}))
			}
			var next atomic.Int64
			b.SetParallelism(64)
			cpu0 := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				l := logs[next.Add(1)%int64(len(logs))]
				for pb.Next() {
					if _, err := l.Append(ctx, records[next.Add(1)%int64(len(records))]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			for _, l := range logs {
				if _, err := l.CheckpointNow(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/record")
		})
	}
}

// TestLeases takes a lease from two handles on one PostgreSQL schema: one holds it, the
// other is refused; when the holder's session is killed (as when its process dies), the
// holder learns it lost the lease and the other takes it.
func TestLeases(t *testing.T) {
	ctx := context.Background()
	dbs := openPostgresReplicas(t, 2, sqlstore.Hub)
	a, b := dbs[0].Leases(), dbs[1].Leases()
	h, ok, err := a.TryAcquire(ctx, "relay")
	if err != nil || !ok {
		t.Fatalf("first TryAcquire = %v, %v; want the lease", ok, err)
	}
	defer h.Release()
	if _, ok, err := b.TryAcquire(ctx, "relay"); err != nil || ok {
		t.Fatalf("second TryAcquire while held = %v, %v; want refused", ok, err)
	}
	other, ok, err := b.TryAcquire(ctx, "router")
	if err != nil || !ok {
		t.Fatalf("TryAcquire(another name) = %v, %v; want it", ok, err)
	}
	other.Release()
	if _, err := dbs[1].ExecForTest(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
		AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(current_schema() || '.lease.relay', 0)`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("the holder did not learn its session ended")
	}
	testwait.For(t, 10*time.Second, func() error {
		h2, ok, err := b.TryAcquire(ctx, "relay")
		if err != nil || !ok {
			return fmt.Errorf("TryAcquire after the holder's session ended = %v, %v", ok, err)
		}
		h2.Release()
		return nil
	})
}
