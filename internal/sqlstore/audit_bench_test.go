package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// BenchmarkAuditAppend appends from many goroutines, as concurrent exchanges do, so that
// group commit forms batches; every record is committed before its Append returns.
// cpu-µs/record is the cost that does not depend on what else the machine runs. With the
// journal (as the hub on SQLite writes its log) it runs at each durability level:
// process (written to the operating system; the default) and power (each frame synced,
// the store at synchronous=FULL).
func BenchmarkAuditAppend(b *testing.B) {
	records := make([]audit.Record, 1024)
	for i := range records {
		records[i] = audittest.Record(i, audittest.Person(i))
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) { benchmarkAuditAppend(b, be.open(b, sqlstore.Hub).Audit(), records, audit.Config{}) })
	}
	for _, d := range []audit.Durability{audit.ProcessCrash, audit.PowerLoss} {
		b.Run("sqlite+journal/durability="+d.String(), func(b *testing.B) {
			dsn := "sqlite:" + filepath.Join(b.TempDir(), "hub.db")
			if d == audit.PowerLoss {
				dsn += "?sync=full"
			}
			db, err := sqlstore.Open(context.Background(), dsn, sqlstore.Hub)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			benchmarkAuditAppend(b, db.Audit(), records, audit.Config{Journal: b.TempDir(), Durability: d})
		})
	}
}

// benchmarkAuditAppend appends records from 64 goroutines a processor; records/s
// counts them stored, not only acknowledged (with a journal the last ones are stored
// a few milliseconds later).
func benchmarkAuditAppend(b *testing.B, store audit.Store, records []audit.Record, cfg audit.Config) {
	s := &countingStore{Store: store}
	l := audittest.OpenLog(b, s, cfg)
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(64)
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Append(ctx, records[n.Add(1)%int64(len(records))]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if _, err := l.CheckpointNow(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.N)/float64(s.batches.Load()), "records/transaction")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/record")
}

// countingStore counts the batches of group commit.
type countingStore struct {
	audit.Store
	batches atomic.Int64
}

func (s *countingStore) Append(ctx context.Context, b audit.Batch) error {
	s.batches.Add(1)
	return s.Store.Append(ctx, b)
}

// BenchmarkAuditStoreAppend measures the store alone: batches of 128 records built
// beforehand, appended one after the other.
func BenchmarkAuditStoreAppend(b *testing.B) {
	for _, be := range backends {
		for _, per := range []int{4, 128} { // a few concurrent exchanges; a busy hub
			b.Run(fmt.Sprintf("%s/batch=%d", be.name, per), func(b *testing.B) {
				ctx := context.Background()
				s := be.open(b, sqlstore.Hub).Audit()
				batches := auditBatches(b, (b.N+per-1)/per, per)
				cpu0 := cpuTime()
				b.ResetTimer()
				for _, batch := range batches {
					if err := s.Append(ctx, batch); err != nil {
						b.Fatal(err)
					}
				}
				n := float64(len(batches) * per)
				b.ReportMetric(n/b.Elapsed().Seconds(), "records/s")
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/n, "cpu-µs/record")
			})
		}
	}
}

// auditBatches builds n batches of per records as a log would, each record about one
// of 1024 persons.
func auditBatches(b *testing.B, n, per int) []audit.Batch {
	hashes := map[int64]tlog.Hash{}
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = hashes[x]
		}
		return out, nil
	})
	out := make([]audit.Batch, n)
	for k := range out {
		bt := audit.Batch{First: int64(k*per) + 1}
		for i := range per {
			seq := bt.First + int64(i)
			rec := audittest.Record(int(seq), audittest.Person(int(seq%1024)))
			rec.Seq, rec.Binding = seq, audittest.Record(0).RequestHash
			body, err := json.Marshal(rec)
			if err != nil {
				b.Fatal(err)
			}
			hs, err := tlog.StoredHashes(seq-1, body, r)
			if err != nil {
				b.Fatal(err)
			}
			for j, h := range hs {
				hashes[tlog.StoredHashIndex(0, seq-1)+int64(j)] = h
			}
			bt.Records = append(bt.Records, body)
			bt.Hashes = append(bt.Hashes, hs...)
			bt.Persons = append(bt.Persons, audit.PersonSeq{Person: rec.Persons[0], Seq: seq})
		}
		out[k] = bt
	}
	return out
}

// BenchmarkAuditVerify recomputes the tree of a log of 100,000 records, with the
// checkpoints signed every 20ms while it was written.
func BenchmarkAuditVerify(b *testing.B) {
	const size = 100_000
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			s := be.open(b, sqlstore.Hub).Audit()
			l := audittest.OpenLog(b, s, audit.Config{CheckpointEvery: 20 * time.Millisecond})
			var wg sync.WaitGroup
			var next atomic.Int64
			for range 64 {
				wg.Go(func() {
					for i := next.Add(1); i <= size; i = next.Add(1) {
						if _, err := l.Append(ctx, audittest.Record(int(i), audittest.Person(int(i%1024)))); err != nil {
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
			_, vkey := audittest.Signer(b, 1)
			var rep audit.Report
			b.ResetTimer()
			for b.Loop() {
				var err error
				if rep, err = audit.Verify(ctx, s, []string{vkey}, nil); err != nil || rep.Records != size {
					b.Fatalf("Verify = %+v, %v", rep, err)
				}
			}
			b.ReportMetric(float64(size*b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(rep.Checkpoints), "checkpoints")
		})
	}
}
