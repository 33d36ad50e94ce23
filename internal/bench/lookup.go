package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// LookupOptions configure the person-directory lookup benchmark.
type LookupOptions struct {
	Directory   directory.Store
	Population  population.Store // to draw real person numbers from
	Duration    time.Duration
	Concurrency int
	Sample      int // how many distinct persons to draw
}

// Lookup measures "which institutions have a file on person P, in which capacities,
// today", with Concurrency goroutines: through the directory Store (SQL), then through
// the in-memory index the exchange decides with, loaded from the same store.
func Lookup(ctx context.Context, o LookupOptions) (*Result, error) {
	persons, err := samplePersons(ctx, o.Population, o.Sample)
	if err != nil {
		return nil, err
	}
	r := newResult("lookup")
	r.add("persons_sampled", "distinct persons asked about", len(persons), "")
	r.add("concurrency", "concurrent clients", o.Concurrency, "")
	store, err := lookups(ctx, o, persons, o.Directory.Files)
	if err != nil {
		return nil, err
	}
	store.report(r, "", "store (SQL)")
	start := time.Now()
	x := directory.NewIndex()
	if err := x.Load(ctx, o.Directory); err != nil {
		return nil, err
	}
	r.add("index_load_s", "index: load "+fmt.Sprint(x.Len())+" files", decimals(time.Since(start).Seconds(), 3), "s")
	mem, err := lookups(ctx, o, persons, func(_ context.Context, p string, d date.Date) ([]directory.Integration, error) {
		return x.Files(p, d), nil
	})
	if err != nil {
		return nil, err
	}
	mem.report(r, "index_", "index (memory)")
	return r, nil
}

type lookupRun struct {
	all     latencies
	files   int
	elapsed time.Duration
}

func (l lookupRun) report(r *Result, key, label string) {
	r.add(key+"lookups_per_s", label+": lookups per second", round(float64(len(l.all))/l.elapsed.Seconds()), "/s")
	r.add(key+"foundper_lookup", label+": files found per lookup", round(float64(l.files)/float64(max(1, len(l.all)))), "")
	r.add(key+"p50_us", label+": p50", round(ms(l.all.percentile(50))*1000), "µs")
	r.add(key+"p99_us", label+": p99", round(ms(l.all.percentile(99))*1000), "µs")
}

func lookups(ctx context.Context, o LookupOptions, persons []string, files func(context.Context, string, date.Date) ([]directory.Integration, error)) (lookupRun, error) {
	today := date.FromTime(time.Now())
	var (
		mu    sync.Mutex
		all   latencies
		found int
		wg    sync.WaitGroup
		errs  = make(chan error, o.Concurrency)
	)
	deadline := time.Now().Add(o.Duration)
	start := time.Now()
	for g := range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			var mine latencies
			n := 0
			for time.Now().Before(deadline) {
				t := time.Now()
				fs, err := files(ctx, persons[rng.IntN(len(persons))], today)
				if err != nil {
					errs <- err
					return
				}
				mine = append(mine, time.Since(t))
				n += len(fs)
			}
			mu.Lock()
			all = append(all, mine...)
			found += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return lookupRun{}, err
	}
	return lookupRun{all: all, files: found, elapsed: elapsed}, nil
}

// samplePersons draws n person numbers spread over the register: each is the first
// person after a random point of the number space.
func samplePersons(ctx context.Context, pop population.Store, n int) ([]string, error) {
	rng := rand.New(rand.NewPCG(42, 42))
	seen := map[string]bool{}
	var out []string
	for tries := 0; len(out) < n && tries < 4*n; tries++ {
		start, err := ident.MakePerson(1920+rng.IntN(100), 1+rng.IntN(12), 1+rng.IntN(28), 1+rng.IntN(997), ident.Register)
		if err != nil {
			return nil, err
		}
		after := start.String()
		ps, err := pop.Persons(ctx, population.Query{After: after, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(ps) == 1 && !seen[ps[0].Number] {
			seen[ps[0].Number] = true
			out = append(out, ps[0].Number)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the civil register is empty: generate a nation first")
	}
	return out, nil
}
