package rights

import (
	"context"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
)

// Simulation is what a catalogue change would do to the whole nation: for each right,
// how many persons hold it today and would hold it, who gains and who loses it, by
// region, age band and household type (cells under K suppressed).
type Simulation struct {
	Persons  int           `json:"persons"`
	Day      date.Date     `json:"day"`
	Rights   []RightChange `json:"rights"`
	Groups   []GroupChange `json:"groups"`
	Failures int           `json:"failures"`
	Seconds  float64       `json:"seconds"`
}

// RightChange sums up one right.
type RightChange struct {
	Right  string `json:"right"`
	Title  string `json:"title"`
	Before int    `json:"before"`
	After  int    `json:"after"`
	Gain   int    `json:"gain"`
	Lose   int    `json:"lose"`
}

// GroupChange is the gains and losses of a right in one group (nil: suppressed).
type GroupChange struct {
	Right     string `json:"right"`
	Dimension string `json:"dimension"`
	Value     string `json:"value"`
	Gain      *int   `json:"gain"`
	Lose      *int   `json:"lose"`
}

type tally struct {
	before, after, gain, lose int
	groups                    map[[2]string]*[2]int // dimension, value → gain, lose
}

// Simulate evaluates the catalogue in force and proposed on every person's facts (read
// for proposed: its rules' authorizations apply) and counts the differences. Nothing is
// stored.
func (e *Engine) Simulate(ctx context.Context, proposed *Catalogue, progress func(persons int)) (Simulation, error) {
	start := time.Now()
	current := e.Catalogue()
	sim := Simulation{Day: date.FromTime(e.now())}
	ids := map[string]string{}
	for _, c := range []*Catalogue{current, proposed} {
		for _, r := range c.rules {
			ids[r.ID] = r.Title
		}
	}
	tallies := map[string]*tally{}
	for id := range ids {
		tallies[id] = &tally{groups: map[[2]string]*[2]int{}}
	}
	var mu sync.Mutex
	err := e.Facts.Each(ctx, proposed, "", sim.Day, func(b Batch) error {
		local, fails := simulateBatch(current, proposed, b, ids, e.Workers)
		mu.Lock()
		defer mu.Unlock()
		for id, t := range local {
			all := tallies[id]
			all.before, all.after, all.gain, all.lose = all.before+t.before, all.after+t.after, all.gain+t.gain, all.lose+t.lose
			for k, v := range t.groups {
				g := all.groups[k]
				if g == nil {
					g = &[2]int{}
					all.groups[k] = g
				}
				g[0], g[1] = g[0]+v[0], g[1]+v[1]
			}
		}
		sim.Persons += len(b.Facts)
		sim.Failures += fails
		if progress != nil {
			progress(sim.Persons)
		}
		return nil
	})
	if err != nil {
		return sim, err
	}
	for _, id := range sortedKeys(ids) {
		t := tallies[id]
		sim.Rights = append(sim.Rights, RightChange{Right: id, Title: ids[id], Before: t.before, After: t.after, Gain: t.gain, Lose: t.lose})
		keys := make([][2]string, 0, len(t.groups))
		for k := range t.groups {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i][0]+"\x00"+keys[i][1] < keys[j][0]+"\x00"+keys[j][1] })
		for _, k := range keys {
			g := t.groups[k]
			sim.Groups = append(sim.Groups, GroupChange{Right: id, Dimension: k[0], Value: k[1], Gain: shown(g[0]), Lose: shown(g[1])})
		}
	}
	sim.Seconds = time.Since(start).Seconds()
	return sim, nil
}

// shown is n, or nil when it is under K (and not zero: a zero singles no one out).
func shown(n int) *int {
	if n > 0 && n < K {
		return nil
	}
	return &n
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// simulateBatch evaluates both catalogues on a batch, in parallel.
func simulateBatch(current, proposed *Catalogue, b Batch, ids map[string]string, workers int) (map[string]*tally, int) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(b.Facts)/64+1))
	parts := make([]map[string]*tally, workers)
	fails := make([]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := map[string]*tally{}
			for id := range ids {
				local[id] = &tally{groups: map[[2]string]*[2]int{}}
			}
			old, neu := current.evaluator(), proposed.evaluator()
			neu.refused = b.Refused
			for i := w; i < len(b.Facts); i += workers {
				f := &b.Facts[i]
				old.run(f)
				neu.run(f)
				for id, t := range local {
					was := old.holds(id)
					is, failed := neu.outcome(id)
					if failed {
						fails[w]++
						is = was
					}
					if was {
						t.before++
					}
					if is {
						t.after++
					}
					if was == is {
						continue
					}
					k := 0
					if is {
						t.gain++
					} else {
						t.lose++
						k = 1
					}
					for _, g := range [][2]string{{"region", f.Region}, {"age_band", AgeBand(f.Age)}, {"household_type", HouseholdType(f)}} {
						c := t.groups[g]
						if c == nil {
							c = &[2]int{}
							t.groups[g] = c
						}
						c[k]++
					}
				}
			}
			parts[w] = local
		}()
	}
	wg.Wait()
	out := parts[0]
	for _, p := range parts[1:] {
		for id, t := range p {
			o := out[id]
			o.before, o.after, o.gain, o.lose = o.before+t.before, o.after+t.after, o.gain+t.gain, o.lose+t.lose
			for k, v := range t.groups {
				g := o.groups[k]
				if g == nil {
					g = &[2]int{}
					o.groups[k] = g
				}
				g[0], g[1] = g[0]+v[0], g[1]+v[1]
			}
		}
	}
	n := 0
	for _, f := range fails {
		n += f
	}
	return out, n
}

// holds reports whether the last person run holds rule id (false when the catalogue has
// no such rule or it failed).
func (ev *evaluator) holds(id string) bool {
	i, ok := ev.cat.index[id]
	return ok && ev.results[i] == held
}

// outcome is holds, and whether the rule failed.
func (ev *evaluator) outcome(id string) (bool, bool) {
	i, ok := ev.cat.index[id]
	if !ok {
		return false, false
	}
	return ev.results[i] == held, ev.results[i] == failed
}
