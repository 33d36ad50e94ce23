package audit_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
)

// BenchmarkAppend measures the log's own cost, on the in-memory store; the SQL stores'
// figures are BenchmarkAuditAppend in internal/sqlstore.
func BenchmarkAppend(b *testing.B) {
	records := make([]audit.Record, 1024)
	for i := range records {
		records[i] = audittest.Record(i, audittest.Person(i))
	}
	s, _ := newMemStore(nil)
	l := audittest.OpenLog(b, s, audit.Config{})
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Append(ctx, records[n.Add(1)%1024]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkVerify measures Verify on the in-memory store: hashing and tree arithmetic.
func BenchmarkVerify(b *testing.B) {
	const size = 100_000
	s, _ := newMemStore(nil)
	l := audittest.OpenLog(b, s, audit.Config{})
	ctx := context.Background()
	for i := range size {
		if _, err := l.Append(ctx, audittest.Record(i, audittest.Person(i%1024))); err != nil {
			b.Fatal(err)
		}
		if (i+1)%1000 == 0 {
			l.CheckpointNow(ctx)
		}
	}
	_, vkey := audittest.Signer(b, 1)
	b.ResetTimer()
	for b.Loop() {
		if rep, err := audit.Verify(ctx, s, []string{vkey}, nil); err != nil || rep.Checkpoints != size/1000 {
			b.Fatalf("Verify = %+v, %v", rep, err)
		}
	}
	b.ReportMetric(float64(size*b.N)/b.Elapsed().Seconds(), "records/s")
}
