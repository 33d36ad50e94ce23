package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/metrics"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/rights"
	"github.com/crossroads-hub/crossroads/internal/rightsfacts"
)

// RightsOptions are the rights benchmark's.
type RightsOptions struct {
	Data     string        // a folder holding a generated nation (hub.db, civil.db)
	Rate     int           // income changes per second for the incremental phase
	Duration time.Duration // of the incremental phase
	Phases   []string      // recompute, simulate, incremental; none: all
	Progress func(stage string, done, total int)
}

// Rights measures the rights engine (#19) on a generated nation: the national
// recompute (every person's facts read through the exchange's policy and audit log,
// evaluated, the changes stored), the same again with nothing to change, a what-if of a
// rule change, and the time from an income change's commit to its persons' decisions
// committed while changes arrive at Rate a second.
func Rights(ctx context.Context, o RightsOptions) (*Result, error) {
	cfg := hub.Config{Store: "sqlite:" + filepath.Join(o.Data, "hub.db"), Civil: "sqlite:" + filepath.Join(o.Data, "civil.db"),
		KeyFile: filepath.Join(o.Data, "hub-keys.json")} // the demo's key file, in its data folder
	st, err := hub.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	persons, _, err := st.Civil.Population().Count(ctx)
	if err != nil {
		return nil, err
	}
	r := newResult("rights")
	r.add("persons", "persons in the nation", persons, "")
	err = hub.Rights(ctx, cfg, st, func(ctx context.Context, e *rights.Engine, _ *rightsfacts.Access) error {
		if err := o.phase("recompute", func() error { return recomputes(ctx, e, r, o) }); err != nil {
			return err
		}
		if err := o.phase("simulate", func() error { return simulate(ctx, e, r, o) }); err != nil {
			return err
		}
		if o.Duration <= 0 || !o.runs("incremental") {
			return nil
		}
		src := &derived.Source{Kind: derived.Social, Store: st.Civil.Population(), Searcher: st.Civil.Searcher()}
		return incremental(ctx, e, st.Civil.Population(), st.Civil.Roster(), src, r, o)
	})
	return r, err
}

// runs tells whether the phase is to run.
func (o RightsOptions) runs(phase string) bool {
	return len(o.Phases) == 0 || slices.Contains(o.Phases, phase)
}

func (o RightsOptions) phase(name string, fn func() error) error {
	if !o.runs(name) {
		return nil
	}
	return fn()
}

func recomputes(ctx context.Context, e *rights.Engine, r *Result, o RightsOptions) error {
	for i, key := range []string{"recompute", "recompute_unchanged"} {
		if err := e.Store.SetProgress(ctx, "bench", ""); err != nil {
			return err
		}
		start, cpu := time.Now(), metrics.ProcessCPU()
		res, err := e.Nation(ctx, "bench", func(x rights.Result) {
			if o.Progress != nil {
				o.Progress(key, x.Persons, -1)
			}
		})
		if err != nil {
			return err
		}
		secs, cpuSecs := time.Since(start).Seconds(), (metrics.ProcessCPU() - cpu).Seconds()
		label := "national recompute"
		if i == 1 {
			label = "national recompute again, nothing to change"
		}
		r.add(key+"_persons_per_s", label, round(float64(res.Persons)/secs), "persons/s")
		r.add(key+"_seconds", label+": time", decimals(secs, 1), "s")
		// Processor time (user+system) of the run, per million persons: steadier than the
		// wall-clock figures on a loaded machine.
		if res.Persons > 0 {
			r.add(key+"_cpu_s_per_million", label+": processor time per 1 M persons", decimals(cpuSecs*1e6/float64(res.Persons), 2), "s")
		}
		r.add(key+"_decisions_changed", label+": decisions stored", res.Changed, "")
	}
	return nil
}

// simulate times the what-if of a more generous increased reimbursement.
func simulate(ctx context.Context, e *rights.Engine, r *Result, o RightsOptions) error {
	rule := e.Catalogue().Rule("increased-reimbursement").Rule
	rule.Version++
	rule.Expr = "alive && resident && (income_per_unit <= 1600 || disabled_child)"
	rule.Examples = append(slices.Clone(rule.Examples[:1]), rights.Example{Name: "new limit", Facts: []byte(`{"alive": true, "resident": true, "income_per_unit": 1600}`), Want: true})
	proposed, err := e.Catalogue().With(rule)
	if err != nil {
		return err
	}
	start := time.Now()
	sim, err := e.Simulate(ctx, proposed, func(n int) {
		if o.Progress != nil {
			o.Progress("simulate", n, -1)
		}
	})
	if err != nil {
		return err
	}
	gain := 0
	for _, x := range sim.Rights {
		gain += x.Gain
	}
	r.add("simulate_seconds", "what-if of a rule change on the nation", decimals(time.Since(start).Seconds(), 1), "s")
	r.add("simulate_gains", "what-if: grants gained (all rights)", gain, "")
	return nil
}

// incremental records income changes at o.Rate a second for o.Duration while a
// follower re-evaluates the persons and households they touch, and measures each
// change's time from its commit to its decisions committed.
func incremental(ctx context.Context, e *rights.Engine, log population.Store, roster population.Roster, src *derived.Source, r *Result, o RightsOptions) error {
	sample, err := roster.Briefs(ctx, "", 200_000)
	if err != nil {
		return err
	}
	today := date.FromTime(time.Now())
	var adults []string
	for _, b := range sample {
		if b.DeathDate.IsZero() && derived.Age(b.BirthDate, today) >= 18 {
			adults = append(adults, b.Number)
		}
	}
	if len(adults) == 0 {
		return fmt.Errorf("no living adult in the nation")
	}
	if err := e.Store.SetProgress(ctx, rightsfacts.FollowJob, ""); err != nil {
		return err
	}
	var mu sync.Mutex
	var lat, steps []time.Duration
	events := 0
	f := &rightsfacts.Follower{Engine: e, Log: log, Roster: roster, Every: 5 * time.Millisecond,
		Handled: func(evs []population.Event, _ rights.Result, took time.Duration) {
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			steps, events = append(steps, took), events+len(evs)
			for _, ev := range evs {
				if ev.Type == derived.EventIncome {
					lat = append(lat, now.Sub(ev.RecordedAt))
				}
			}
		}}
	if _, err := f.Step(ctx, 1); err != nil { // from the end of the log
		return err
	}
	fctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.Run(fctx) }()
	sent, failed := produce(ctx, src, adults, today, o.Rate, o.Duration)
	// Wait until every change is handled, at most 30 s.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(lat)
		mu.Unlock()
		if n >= sent {
			break
		}
	}
	stop()
	if err := <-done; err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lat)
	r.add("incremental_rate", "incremental: income changes offered", o.Rate, "/s")
	r.add("incremental_changes", "incremental: changes recorded", sent, "")
	r.add("incremental_failed", "incremental: changes refused by the register", failed, "")
	r.add("incremental_handled", "incremental: changes whose decisions were committed", len(lat), "")
	if len(lat) > 0 {
		r.add("incremental_p50_ms", "incremental: commit to decisions committed, p50", decimals(ms(lat[len(lat)/2]), 1), "ms")
		r.add("incremental_p99_ms", "incremental: commit to decisions committed, p99", decimals(ms(lat[len(lat)*99/100]), 1), "ms")
	}
	if len(steps) > 0 {
		slices.Sort(steps)
		r.add("incremental_steps", "incremental: steps of the follower (changes read, decided, stored)", len(steps), "")
		r.add("incremental_changes_per_step", "incremental: changes a step, on average", decimals(float64(events)/float64(len(steps)), 1), "")
		r.add("incremental_step_p50_ms", "incremental: a step's time, p50", decimals(ms(steps[len(steps)/2]), 1), "ms")
		r.add("incremental_step_max_ms", "incremental: a step's time, longest", decimals(ms(steps[len(steps)-1]), 1), "ms")
	}
	return nil
}

// produce records income changes of random adults at rate a second for d.
func produce(ctx context.Context, src *derived.Source, adults []string, today date.Date, rate int, d time.Duration) (sent, failed int) {
	rng := rand.New(rand.NewPCG(19, 1))
	const tick = 10 * time.Millisecond
	per := max(1, rate/int(time.Second/tick))
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, 8)
	end := time.Now().Add(d)
	for t := time.Now(); t.Before(end); t = t.Add(tick) {
		time.Sleep(time.Until(t))
		for range per {
			person := adults[rng.IntN(len(adults))]
			income := rng.IntN(4000)
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-slots; wg.Done() }()
				_, err := src.RecordChange(ctx, derived.Change{Type: derived.EventIncome, Person: person, Date: today, Facts: derived.Facts{MonthlyIncome: &income}}, today)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed++
				} else {
					sent++
				}
			}()
		}
	}
	wg.Wait()
	return sent, failed
}
