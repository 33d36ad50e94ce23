package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// auditAppends appends to one log on a scratch schema through 1, 2 and 3 logs (as many
// replicas' processes would), AuditAppenders appenders each, every record committed before its
// Append returns.
func auditAppends(ctx context.Context, o ClusterOptions, r *Result) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	signer, err := audit.NewSigner("hub.bench.example", edKey(priv))
	if err != nil {
		return err
	}
	sign := func() (note.Signer, error) { return signer, nil }
	for n := 1; n <= 3; n++ {
		store, drop, err := sqlstore.Scratch(ctx, o.Postgres)
		if err != nil {
			return err
		}
		rate, cpu, lock, err := appendThrough(ctx, store, n, sign, o)
		if derr := drop(); err == nil {
			err = derr
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(o.Progress, "audit appends through %d log(s): %.0f/s; the log's lock held %.0f %% of the time, %.0f records a batch, %.2f ms waited a batch, held %.2f ms (end %.2f, build %.2f, write %.2f, index %.2f, commit %.2f)\n",
			n, rate, 100*lock.heldShare, lock.perBatch, lock.waitMs, lock.heldShare*1000*lock.perBatch/rate,
			lock.stepsMs[0], lock.stepsMs[1], lock.stepsMs[2], lock.stepsMs[3], lock.stepsMs[4])
		r.add(fmt.Sprintf("audit_%d_logs_appends_per_s", n), fmt.Sprintf("audit appends through %d log(s) on one schema", n), round(rate), "/s")
		r.add(fmt.Sprintf("audit_%d_logs_cpu_us_per_append", n), fmt.Sprintf("audit appends through %d log(s): this process's CPU per append", n), round(cpu), "µs")
		r.add(fmt.Sprintf("audit_%d_logs_lock_held_pct", n), fmt.Sprintf("audit appends through %d log(s): the log's lock held, share of the time", n), round(100*lock.heldShare), "%")
		r.add(fmt.Sprintf("audit_%d_logs_records_per_batch", n), fmt.Sprintf("audit appends through %d log(s): records a batch", n), round(lock.perBatch), "")
		r.add(fmt.Sprintf("audit_%d_logs_lock_wait_ms_per_batch", n), fmt.Sprintf("audit appends through %d log(s): wait for the lock a batch", n), round(lock.waitMs), "ms")
	}
	return nil
}

// lockUse is how the logs of a run used the shared log's lock (sqlstore.AuditLockStats):
// the share of the run's time it was held, records a batch, wait a batch.
type lockUse struct {
	heldShare, perBatch, waitMs float64
	stepsMs                     [5]float64 // held a batch: end, build, write, index, commit
}

func appendThrough(ctx context.Context, store string, n int, sign audit.SignerFunc, o ClusterOptions) (rate, cpuPer float64, lock lockUse, err error) {
	var logs []*audit.Log
	var dbs []*sqlstore.DB
	for range n {
		db, err := sqlstore.Open(ctx, store, sqlstore.Hub)
		if err != nil {
			return 0, 0, lock, err
		}
		defer db.Close()
		dbs = append(dbs, db)
		l, err := audit.Open(ctx, db.Audit(), sign, audit.Config{CheckpointEvery: time.Hour, MaxBatch: o.AuditMaxBatch})
		if err != nil {
			return 0, 0, lock, err
		}
		defer l.Close(context.Background())
		logs = append(logs, l)
	}
	actx, cancel := context.WithTimeout(ctx, o.AuditFor)
	defer cancel()
	var count atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	cpu0 := processCPU()
	start := time.Now()
	per := o.AuditAppenders
	if per <= 0 {
		per = 256
	}
	for i := range per * n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := logs[i%n]
			for j := 0; actx.Err() == nil; j++ {
				rec := audit.Record{Client: "bench", MessageID: fmt.Sprintf("a%d-%d", i, j), Institution: "FUND", Service: "civil.person",
					Purpose: "benefit-check", Persons: []string{fmt.Sprintf("P%d", j%1000)}, Fields: []string{"name"}, Decision: audit.Permit,
					Outcome: "answered", Status: 200, RequestHash: audit.HashHex([]byte{byte(i), byte(j)}), ResponseHash: audit.HashHex([]byte{byte(j), byte(i)})}
				if _, err := l.Append(ctx, rec); err != nil {
					failed.Store(err)
					return
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if err, ok := failed.Load().(error); ok {
		return 0, 0, lock, err
	}
	c := float64(count.Load())
	var batches, wait, held int64
	for _, db := range dbs {
		s := db.AuditLock()
		batches, wait, held = batches+s.Batches.Load(), wait+s.Wait.Load(), held+s.Held.Load()
	}
	if batches > 0 {
		lock = lockUse{heldShare: float64(held) / float64(el), perBatch: c / float64(batches), waitMs: float64(wait) / float64(batches) / 1e6}
		for i := range lock.stepsMs {
			for _, db := range dbs {
				lock.stepsMs[i] += float64(db.AuditLock().Steps[i].Load()) / float64(batches) / 1e6
			}
		}
	}
	return c / el.Seconds(), float64((processCPU() - cpu0).Microseconds()) / c, lock, nil
}
