package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/metrics"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// AuditVerifyOptions configure AuditVerify.
type AuditVerifyOptions struct {
	Records int    // the log's size
	Store   string // an SQLite file to keep the log in (built once, reused when it holds Records); "" a temporary one
	Workers int    // Verify's workers; 0 one per processor
	// Plain verifies record by record as any Store allows (Records and ReadHashes),
	// without the store's Scanner: the figures to compare with.
	Plain bool
}

// plainStore hides a store's Scanner.
type plainStore struct{ audit.Store }

// AuditVerify builds an audit log of exchange records (as the hub writes them, through
// audit.Log with group commit, checkpoints every 2 s) unless Store already holds one as
// large, then times audit.VerifyWith over it and samples the process's resident memory
// and Go heap meanwhile. It reports the bytes the store takes per record too.
func AuditVerify(ctx context.Context, o AuditVerifyOptions) (*Result, error) {
	path := o.Store
	if path == "" {
		dir, err := os.MkdirTemp("", "crossroads-bench-audit-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "hub.db")
	}
	keyFile := path + "-bench-key"
	priv, err := benchKey(keyFile)
	if err != nil {
		return nil, err
	}
	signer, err := audit.NewSigner("hub.bench.example", edKey(priv))
	if err != nil {
		return nil, err
	}
	vkey, err := audit.VerifierKey("hub.bench.example", priv.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	db, err := sqlstore.Open(ctx, "sqlite:"+path, sqlstore.Hub)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	r := newResult("audit-verify")
	built := time.Now()
	size, err := buildAuditLog(ctx, db.Audit(), func() (note.Signer, error) { return signer, nil }, o.Records)
	if err != nil {
		return nil, err
	}
	if took := time.Since(built); took > time.Second {
		r.add("build_seconds", "log built in", took.Seconds(), "s")
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	r.add("records", "records", size, "")
	r.add("store_bytes_per_record", "store size per record", float64(st.Size())/float64(size), "B")
	runtime.GC()
	stop := sampleMemory()
	start, cpu := time.Now(), metrics.ProcessCPU()
	var store audit.Store = db.Audit()
	if o.Plain {
		store = plainStore{store}
	}
	rep, err := audit.VerifyWith(ctx, store, []string{vkey}, audit.VerifyOptions{Workers: o.Workers})
	took, cpu := time.Since(start), metrics.ProcessCPU()-cpu
	rss, anon, heap := stop()
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	r.add("verify_seconds", "verified in", took.Seconds(), "s")
	r.add("records_per_second", "records verified per second", float64(rep.Records)/took.Seconds(), "/s")
	r.add("cpu_us_per_record", "processor time per record", float64(cpu.Microseconds())/float64(rep.Records), "µs")
	r.add("checkpoints", "checkpoints verified", rep.Checkpoints, "")
	r.add("peak_rss_mb", "peak resident memory", rss/1e6, "MB")
	r.add("peak_anon_mb", "peak resident anonymous memory (less the store's mapped pages)", anon/1e6, "MB")
	r.add("peak_heap_mb", "peak Go heap", heap/1e6, "MB")
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	r.add("workers", "workers", workers, "")
	r.add("plain", "record by record (no Scanner)", o.Plain, "")
	r.add("load", "load average (1, 5, 15 min)", loadAverage(), "")
	return r, nil
}

// benchKey reads the bench's signing key from path, or makes one and keeps it there, so
// that a log kept for a next run still verifies.
func benchKey(path string) (ed25519.PrivateKey, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) == ed25519.SeedSize {
		return ed25519.NewKeyFromSeed(b), nil
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return priv, os.WriteFile(path, priv.Seed(), 0o600)
}

// buildAuditLog appends exchange records to the log in store until it holds n, from 64
// goroutines (group commit forms batches as under load), and returns its size.
func buildAuditLog(ctx context.Context, store audit.Store, sign audit.SignerFunc, n int) (int64, error) {
	size, err := store.Size(ctx)
	if err != nil || size >= int64(n) {
		return size, err
	}
	l, err := audit.Open(ctx, store, sign, audit.Config{CheckpointEvery: 2 * time.Second})
	if err != nil {
		return 0, err
	}
	next := atomic.Int64{}
	next.Store(size)
	var wg sync.WaitGroup
	var failed atomic.Value
	for range 64 {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				if _, err := l.Append(ctx, ExchangeRecord(int(i))); err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := l.Close(ctx); err != nil {
		return 0, err
	}
	if err, ok := failed.Load().(error); ok {
		return 0, err
	}
	return store.Size(ctx)
}

// ExchangeRecord is a record as the hub writes one for a synchronous search (the
// audit benchmarks' workload; audittest.Exchange is the same for tests): a client of
// one of 40 institutions, the sender's message id, one person, the fields granted, the
// reason naming the authorization and the day, the request and response hashes.
func ExchangeRecord(i int) audit.Record {
	inst := i % 40
	auth := fmt.Sprintf("AUTH-%03d-%d", inst, i%3)
	p, err := ident.MakePerson(1950+i/900%50, 1+i/75%12, 1+i%28, 1+i%900, ident.Register)
	if err != nil {
		panic(err) // cannot happen: every argument is in its range
	}
	person := p.String()
	return audit.Record{
		Time:        time.Now(),
		Client:      fmt.Sprintf("app-inst-%02d", inst),
		MessageID:   fmt.Sprintf("m%d-%d", i%8, i),
		Institution: fmt.Sprintf("INST-%02d", inst), Service: []string{"civil.person", "social.member", "disability.status", "farmer.record"}[i%4],
		Purpose: []string{"benefit-check", "eligibility", "fraud-prevention"}[i%3],
		Persons: []string{person}, Fields: []string{"given_name", "family_name", "birth_date", "address", "household"},
		Decision: audit.Permit, Reasons: []string{"authorization " + auth + " (permit) in force on 2026-12-07"},
		Authorization: auth, Outcome: "answered", Status: 200, LatencyMicros: int64(300 + i%4000),
		RequestHash:  audit.HashHex(fmt.Appendf(nil, "request %d", i)),
		ResponseHash: audit.HashHex(fmt.Appendf(nil, "response %d", i)),
	}
}

// sampleMemory samples resident memory and the Go heap every 50 ms until the returned
// function is called, which returns their peaks in bytes.
func sampleMemory() func() (rss, anon, heap float64) {
	var peakRSS, peakAnon, peakHeap float64
	done := make(chan struct{})
	var wg sync.WaitGroup
	sample := func() {
		if v, ok := metrics.ResidentMemory(); ok {
			peakRSS = max(peakRSS, v)
		}
		peakAnon = max(peakAnon, anonymousMemory())
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peakHeap = max(peakHeap, float64(ms.HeapInuse))
	}
	wg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				sample()
				return
			case <-t.C:
				sample()
			}
		}
	})
	return func() (float64, float64, float64) {
		close(done)
		wg.Wait()
		return peakRSS, peakAnon, peakHeap
	}
}

// anonymousMemory is the process's resident anonymous memory in bytes (RssAnon of
// /proc/self/status, Linux; 0 elsewhere): the resident memory less the file pages
// mapped, which the system reclaims at will.
func anonymousMemory() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			var kb float64
			fmt.Sscan(rest, &kb)
			return kb * 1024
		}
	}
	return 0
}

// loadAverage is the system's load average as /proc/loadavg gives it ("" elsewhere):
// figures measured while other work loads the machine are low.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil || len(b) == 0 {
		return ""
	}
	var one, five, fifteen string
	fmt.Sscan(string(b), &one, &five, &fifteen)
	return one + " " + five + " " + fifteen
}
