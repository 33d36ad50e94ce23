package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
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
// today" through the directory Store, with Concurrency goroutines.
func Lookup(ctx context.Context, o LookupOptions) (*Result, error) {
	persons, err := samplePersons(ctx, o.Population, o.Sample)
	if err != nil {
		return nil, err
	}
	today := date.FromTime(time.Now())
	var (
		mu    sync.Mutex
		all   latencies
		files int
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
				fs, err := o.Directory.Files(ctx, persons[rng.IntN(len(persons))], today)
				if err != nil {
					errs <- err
					return
				}
				mine = append(mine, time.Since(t))
				n += len(fs)
			}
			mu.Lock()
			all = append(all, mine...)
			files += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	r := newResult("lookup")
	r.add("persons_sampled", "distinct persons asked about", len(persons), "")
	r.add("concurrency", "concurrent clients", o.Concurrency, "")
	r.add("lookups", "lookups", len(all), "")
	r.add("lookups_per_s", "lookups per second", round(float64(len(all))/elapsed.Seconds()), "/s")
	r.add("files_per_lookup", "files found per lookup", round(float64(files)/float64(max(1, len(all)))), "")
	r.add("p50_us", "p50 latency", round(ms(all.percentile(50))*1000), "µs")
	r.add("p99_us", "p99 latency", round(ms(all.percentile(99))*1000), "µs")
	return r, nil
}

// samplePersons draws n person numbers spread over the register: each is the first
// person after a random point of the number space.
func samplePersons(ctx context.Context, pop population.Store, n int) ([]string, error) {
	rng := rand.New(rand.NewPCG(42, 42))
	seen := map[string]bool{}
	var out []string
	for tries := 0; len(out) < n && tries < 4*n; tries++ {
		after := fmt.Sprintf("%011d", rng.Int64N(99_999_999_999))
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
