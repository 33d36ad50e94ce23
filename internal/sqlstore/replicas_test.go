package sqlstore_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
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
