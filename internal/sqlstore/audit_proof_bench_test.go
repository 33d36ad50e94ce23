package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// BenchmarkAuditConsistencyProof serves consistency proofs (what GET /audit/consistency
// answers: audit.ProveConsistency through the SQLite store) from a random earlier size
// to the end of a log of 10 million records (CROSSROADS_BENCH_AUDIT_SIZE to change it),
// and reports p50, p99 and the processor time a proof. The log is built once (records
// of two bytes, their tree's stored hashes exact), in CROSSROADS_BENCH_AUDIT_DB when
// set, kept there for the next run, else in a temporary folder. Every hundredth proof
// is checked against the roots, outside the processor time reported.
func BenchmarkAuditConsistencyProof(b *testing.B) {
	size := int64(10_000_000)
	if n, err := strconv.ParseInt(os.Getenv("CROSSROADS_BENCH_AUDIT_SIZE"), 10, 64); err == nil && n > 1 {
		size = n
	}
	file := os.Getenv("CROSSROADS_BENCH_AUDIT_DB")
	if file == "" {
		file = filepath.Join(b.TempDir(), "hub.db")
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+file, sqlstore.Hub)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s := db.Audit()
	built := time.Now()
	if err := buildTree(ctx, s, size); err != nil {
		b.Fatal(err)
	}
	b.Logf("a log of %d records ready in %.0f s", size, time.Since(built).Seconds())
	hashes := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) { return s.ReadHashes(ctx, idx) })
	root, err := tlog.TreeHash(size, hashes)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var took []time.Duration
	var checking time.Duration // processor time spent checking proofs, not serving them
	cpu := cpuTime()
	for b.Loop() {
		from := 1 + rng.Int64N(size-1)
		t0 := time.Now()
		c, err := audit.ProveConsistency(ctx, s, from, size)
		took = append(took, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		if len(took)%100 == 1 { // checked outside the timing of most
			c0 := cpuTime()
			old, err := tlog.TreeHash(from, hashes)
			if err != nil || tlog.CheckTree(c.Proof, size, root, from, old) != nil {
				b.Fatalf("the proof from %d to %d does not check: %v", from, size, err)
			}
			checking += cpuTime() - c0
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu-checking).Microseconds())/float64(len(took)), "cpu-µs/proof")
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(size), "records")
}

// buildTree appends size records of two bytes to s, empty, with the stored hashes of
// their tree, in batches of 4096; a store that holds size records already (an earlier
// run's) is kept.
func buildTree(ctx context.Context, s audit.Store, size int64) error {
	have, err := s.Size(ctx)
	if err != nil || have == size {
		return err
	}
	if have > 0 {
		return fmt.Errorf("the store holds %d records, not %d: remove it to build it again", have, size)
	}
	var left [64]tlog.Hash // left[l]: the last complete subtree of level l that is a left child
	body := []byte("{}")
	leaf := tlog.RecordHash(body)
	const per = 4096
	bt := audit.Batch{Records: make([][]byte, 0, per)}
	for n := int64(0); n < size; n++ {
		if len(bt.Records) == 0 {
			bt.First, bt.Hashes = n+1, bt.Hashes[:0]
		}
		h := leaf
		bt.Hashes = append(bt.Hashes, h)
		l := 0
		for m := n; m&1 == 1; m >>= 1 {
			h = tlog.NodeHash(left[l], h)
			bt.Hashes = append(bt.Hashes, h)
			l++
		}
		left[l] = h
		bt.Records = append(bt.Records, body)
		if len(bt.Records) == per || n == size-1 {
			if err := s.Append(ctx, bt); err != nil {
				return err
			}
			bt.Records = bt.Records[:0]
		}
	}
	return nil
}
