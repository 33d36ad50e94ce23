package audit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
)

type slowStore struct {
	audit.Store
	batches, records atomic.Int64
	d                time.Duration
}

func (s *slowStore) Append(ctx context.Context, b audit.Batch) error {
	s.batches.Add(1)
	s.records.Add(int64(len(b.Records)))
	time.Sleep(s.d)
	return s.Store.Append(ctx, b)
}

func TestZZBatch(t *testing.T) {
	for _, d := range []time.Duration{0, 100 * time.Microsecond, time.Millisecond} {
		m, _ := newMemStore(t)
		s := &slowStore{Store: m, d: d}
		l := audittest.OpenLog(t, s, audit.Config{})
		var wg sync.WaitGroup
		start := time.Now()
		for g := range 128 {
			wg.Go(func() {
				for i := range 300 {
					if _, err := l.Append(context.Background(), audittest.Record(g*1000+i)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		t.Logf("sleep %v: %d batches, %.1f records/batch, %.0f records/s", d, s.batches.Load(), float64(s.records.Load())/float64(s.batches.Load()), float64(s.records.Load())/time.Since(start).Seconds())
	}
}
