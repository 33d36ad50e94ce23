package bench

import (
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/metrics"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// SoakOptions configure Soak.
type SoakOptions struct {
	Data        string        // a folder with a nation (the demo's)
	Duration    time.Duration // how long to drive the hub at Share of its capacity
	Share       float64       // of the capacity measured first, 0 to 1
	Concurrency int           // clients
	Every       time.Duration // between two samples (default 5 s)
	Out         string        // folder for soak.csv, soak.svg and heap.pprof
	HeapAfter   time.Duration // when to take the heap profile (default 10 min, or at the end of a shorter run)
}

// soakSample is one row of soak.csv.
type soakSample struct {
	at                      time.Duration
	requests, errors        int64
	rss, anon, heap         float64 // bytes: resident (the store's mapped pages too), resident anonymous, Go heap in use
	goroutines, openFiles   int
	storeBytes              int64
	ratePerSecond, heapObjs float64
}

// Soak measures the hub's capacity (synchronous look-ups through it from Concurrency
// clients, 10 s), then drives it at Share of that for Duration, sampling every Every
// the process's resident memory, Go heap, goroutines, open files and the store's size
// (hub and load share one process: the clients' part is small and constant). It writes
// the samples as CSV and an SVG chart, a heap profile after HeapAfter, then stops the hub
// and verifies its audit log. It fails when a request failed or has no audit record,
// when the log does not verify, or when memory did not level off (the peak of the last
// third above the middle third's by more than 10 % and 16 MB).
func Soak(ctx context.Context, o SoakOptions) (*Result, error) {
	if o.Share <= 0 || o.Share > 1 {
		return nil, fmt.Errorf("share %v: want more than 0 and at most 1", o.Share)
	}
	if o.Every <= 0 {
		o.Every = 5 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.HeapAfter <= 0 {
		o.HeapAfter = 10 * time.Minute
	}
	if err := os.MkdirAll(o.Out, 0o700); err != nil {
		return nil, err
	}
	store := "sqlite:" + filepath.Join(o.Data, "hub.db")
	st, err := hub.Open(ctx, hub.Config{Store: store, Civil: "sqlite:" + filepath.Join(o.Data, "civil.db")})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	persons, err := filesOf(ctx, st.Directory, synth.PensionFund, 5000)
	if err != nil {
		return nil, err
	}
	before, err := st.Hub.Audit().Size(ctx)
	if err != nil {
		return nil, err
	}
	r := newResult("soak")
	var capacity, soak load
	var target float64
	var samples []soakSample
	var failures failureKinds
	err = throughHubRenewing(ctx, ExchangeOptions{Data: o.Data}, st, false, "", func(base string, token func() string) {
		capacity = run(ctx, o.Concurrency, 10*time.Second, base+"/dci/crvs/registry/sync/search", token(), persons)
		target = o.Share * capacity.rps()
		soak, samples = soakDrive(ctx, o, target, func(ctx context.Context, c *http.Client, i int) error {
			err := lookup(ctx, c, base+"/dci/crvs/registry/sync/search", token(), persons[i%len(persons)], i)
			failures.add(err)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	r.add("capacity_rps", "capacity (10 s, as fast as the clients can)", round(capacity.rps()), "/s")
	r.add("share", "share of capacity driven", o.Share, "")
	r.add("duration_s", "soak", round(soak.elapsed.Seconds()), "s")
	r.add("requests", "requests answered", soak.n, "")
	r.add("target_rps", "requests/s asked for (share × capacity)", round(target), "/s")
	r.add("rps", "requests/s", round(soak.rps()), "/s")
	r.add("p99_ms", "p99", decimals(ms(soak.all.percentile(99)), 3), "ms")
	r.add("errors", "errors", soak.errors+capacity.errors, "")
	if first := failures.String(); first != "" {
		r.add("failures", "failures, by kind", first, "")
	}
	if err := writeSoak(o.Out, samples); err != nil {
		return nil, err
	}
	r.add("csv", "samples", filepath.Join(o.Out, "soak.csv"), "")
	r.add("svg", "chart", filepath.Join(o.Out, "soak.svg"), "")
	r.add("heap_profile", "heap profile", filepath.Join(o.Out, "heap.pprof"), "")
	first, last := samples[0], samples[len(samples)-1]
	r.add("rss_mb_first", "resident memory, first sample", round(first.rss/1e6), "MB")
	r.add("rss_mb_last", "resident memory, last sample", round(last.rss/1e6), "MB")
	r.add("store_bytes_per_request", "store growth a request", round(float64(last.storeBytes-first.storeBytes)/float64(max(soak.n, 1))), "B")
	r.add("anon_mb_first", "resident anonymous memory, first sample", round(first.anon/1e6), "MB")
	r.add("anon_mb_last", "resident anonymous memory, last sample", round(last.anon/1e6), "MB")
	// Resident memory counts the store's mapped pages (the memory map of the SQLite file,
	// up to its mmap_size, which grows with the store and is given back under pressure):
	// whether memory levels off is judged on the anonymous memory the process holds.
	mid, end := thirdsPeak(samples, func(s soakSample) float64 { return s.rss })
	r.add("rss_mb_peak_middle_third", "peak resident memory, middle third", round(mid/1e6), "MB")
	r.add("rss_mb_peak_last_third", "peak resident memory, last third", round(end/1e6), "MB")
	mid, end = thirdsPeak(samples, func(s soakSample) float64 { return s.anon })
	r.add("anon_mb_peak_middle_third", "peak resident anonymous memory, middle third", round(mid/1e6), "MB")
	r.add("anon_mb_peak_last_third", "peak resident anonymous memory, last third", round(end/1e6), "MB")
	leveled := end <= 1.1*mid+16e6
	r.add("memory_leveled", "memory levelled off", leveled, "")
	// The hub has stopped: its audit journal is stored. Every request answered has
	// its record, and the log verifies.
	after, err := st.Hub.Audit().Size(ctx)
	if err != nil {
		return nil, err
	}
	answered := soak.n + capacity.n
	r.add("audit_records", "audit records added", after-before, "")
	rep, verr := verifyLog(ctx, st.Hub.Audit(), filepath.Join(o.Data, "hub-keys.json"))
	r.add("audit_verified", "audit log verified", verr == nil, "")
	r.add("audit_verify_rps", "audit verify, records/s", round(float64(rep.Records)/max(rep.took.Seconds(), 1e-9)), "/s")
	r.add("load", "load average (1, 5, 15 min)", loadAverage(), "")
	switch {
	case verr != nil:
		return r, fmt.Errorf("soak: the audit log does not verify: %w", verr)
	case soak.errors+capacity.errors > 0:
		return r, fmt.Errorf("soak: %d requests failed", soak.errors+capacity.errors)
	case after-before < answered:
		return r, fmt.Errorf("soak: %d requests answered, %d audit records added: %d lost", answered, after-before, answered-(after-before))
	case !leveled:
		return r, fmt.Errorf("soak: memory did not level off: peak anonymous memory %.0f MB in the last third, %.0f MB in the middle one", end/1e6, mid/1e6)
	}
	return r, nil
}

// soakDrive drives ask at target requests a second in all from o.Concurrency clients for
// o.Duration, sampling every o.Every, and writes the heap profile after o.HeapAfter.
func soakDrive(ctx context.Context, o SoakOptions, target float64, ask func(ctx context.Context, c *http.Client, i int) error) (load, []soakSample) {
	var (
		mu      sync.Mutex
		samples []soakSample
		n, errs atomic.Int64
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(o.Every)
		defer t.Stop()
		heapAt := min(o.HeapAfter, o.Duration-o.Every)
		profiled := false
		for {
			s := sample(o.Data, time.Since(start), n.Load(), errs.Load())
			mu.Lock()
			if k := len(samples); k > 0 {
				s.ratePerSecond = float64(s.requests-samples[k-1].requests) / (s.at - samples[k-1].at).Seconds()
			}
			samples = append(samples, s)
			mu.Unlock()
			if !profiled && time.Since(start) >= heapAt {
				profiled = writeHeap(filepath.Join(o.Out, "heap.pprof")) == nil
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	interval := time.Duration(float64(time.Second) * float64(o.Concurrency) / max(target, 1))
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency * 2}}
	defer client.CloseIdleConnections()
	var all latencies
	deadline, cpu := start.Add(o.Duration), metrics.ProcessCPU()
	var clients sync.WaitGroup
	for g := range o.Concurrency {
		clients.Go(func() {
			// A uniform sample of this client's latencies (reservoir, at most
			// soakKeep): every latency of a long soak would be memory that grows with
			// the run in the process measured (8 bytes a request: 112 MB for 14 M).
			var mine latencies
			rng := rand.New(rand.NewPCG(uint64(g), 22))
			seen := 0
			// Client g sends its k-th request at start + (k + g/Concurrency)·interval: a
			// constant rate in all, not as fast as it can. A client behind its schedule
			// (the hub slower than the capacity measured first, other work on the
			// machine) sends its next request at once, and stops at the deadline all the
			// same: the run lasts its duration, not until the backlog is sent.
			for k := 0; ctx.Err() == nil; k++ {
				at := start.Add(time.Duration(k)*interval + time.Duration(g)*interval/time.Duration(o.Concurrency))
				if !at.Before(deadline) || !time.Now().Before(deadline) {
					break
				}
				if d := time.Until(at); d > 0 {
					time.Sleep(d)
				}
				t := time.Now()
				if err := ask(ctx, client, k*o.Concurrency+g); err != nil {
					errs.Add(1)
					continue
				}
				d := time.Since(t)
				if seen++; len(mine) < soakKeep {
					mine = append(mine, d)
				} else if j := rng.IntN(seen); j < soakKeep {
					mine[j] = d
				}
				n.Add(1)
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	clients.Wait()
	l := load{n: n.Load(), errors: errs.Load(), elapsed: time.Since(start), cpu: metrics.ProcessCPU() - cpu, all: all}
	cancel()
	wg.Wait()
	samples = append(samples, sample(o.Data, time.Since(start), n.Load(), errs.Load()))
	return l, samples
}

// soakKeep is how many latencies a soak's client keeps (a uniform sample) for the p99.
const soakKeep = 1 << 16

// sample reads the process's figures and the store's size.
func sample(data string, at time.Duration, requests, errors int64) soakSample {
	s := soakSample{at: at, requests: requests, errors: errors, goroutines: runtime.NumGoroutine()}
	s.rss, _ = metrics.ResidentMemory()
	s.anon = anonymousMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.heap, s.heapObjs = float64(ms.HeapInuse), float64(ms.HeapObjects)
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		s.openFiles = len(fds)
	}
	for _, name := range []string{"hub.db", "hub.db-wal", "hub.db-audit"} {
		s.storeBytes += diskUsage(filepath.Join(data, name))
	}
	return s
}

// diskUsage is the size of a file, or of the files of a folder.
func diskUsage(path string) int64 {
	var n int64
	filepath.Walk(path, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

func writeHeap(path string) error {
	runtime.GC()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.WriteHeapProfile(f)
}

// thirdsPeak returns the peak of a figure of the samples in their middle and last
// thirds.
func thirdsPeak(samples []soakSample, of func(soakSample) float64) (mid, end float64) {
	n := len(samples)
	for i, s := range samples {
		switch {
		case i >= 2*n/3:
			end = max(end, of(s))
		case i >= n/3:
			mid = max(mid, of(s))
		}
	}
	return mid, end
}

// verifyReport is Verify's report and how long it took.
type verifyReport struct {
	audit.Report
	took time.Duration
}

// verifyLog verifies the audit log with the verifier keys of the hub's key file.
func verifyLog(ctx context.Context, store audit.Store, keyFile string) (verifyReport, error) {
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return verifyReport{}, err
	}
	ks, err := oauth.LoadKeySet(b, time.Now)
	if err != nil {
		return verifyReport{}, err
	}
	vkey, err := hub.AuditVerifierKey(ks)
	if err != nil {
		return verifyReport{}, err
	}
	keys, err := hub.ReadVerifiers(keyFile)
	if err != nil {
		return verifyReport{}, err
	}
	if !slices.Contains(keys, vkey) {
		keys = append(keys, vkey)
	}
	start := time.Now()
	rep, err := audit.VerifyWith(ctx, store, keys, audit.VerifyOptions{})
	return verifyReport{rep, time.Since(start)}, err
}

// writeSoak writes soak.csv and soak.svg into dir.
func writeSoak(dir string, samples []soakSample) error {
	f, err := os.OpenFile(filepath.Join(dir, "soak.csv"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	w.Write([]string{"seconds", "requests", "errors", "requests_per_s", "rss_mb", "anon_mb", "heap_mb", "heap_objects", "goroutines", "open_files", "store_mb"})
	for _, s := range samples {
		w.Write([]string{
			strconv.FormatFloat(s.at.Seconds(), 'f', 1, 64), strconv.FormatInt(s.requests, 10), strconv.FormatInt(s.errors, 10),
			strconv.FormatFloat(s.ratePerSecond, 'f', 0, 64), mb(s.rss), mb(s.anon), mb(s.heap), strconv.FormatFloat(s.heapObjs, 'f', 0, 64),
			strconv.Itoa(s.goroutines), strconv.Itoa(s.openFiles), mb(float64(s.storeBytes)),
		})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "soak.svg"), soakChart(samples), 0o600)
}

func mb(b float64) string { return strconv.FormatFloat(b/1e6, 'f', 1, 64) }

// failureKinds counts failed requests by their error's text (at most 8 kinds).
type failureKinds struct {
	mu sync.Mutex
	n  map[string]int
}

func (f *failureKinds) add(err error) {
	if err == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = map[string]int{}
	}
	k := err.Error()
	if len(k) > 120 {
		k = k[:120]
	}
	if _, ok := f.n[k]; ok || len(f.n) < 8 {
		f.n[k]++
	}
}

func (f *failureKinds) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var parts []string
	for k, n := range f.n {
		parts = append(parts, fmt.Sprintf("%d × %s", n, k))
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}
