package rights

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Batch is the facts of some persons read for a catalogue, and the rules whose reads were
// refused (the granting institution is not authorized for a source under that right):
// those rules decide nothing for the batch, and the persons' decisions stay.
type Batch struct {
	Facts   []Facts
	Refused map[string]error // by rule id
}

// FactSource reads facts from the authentic sources on behalf of the rules' granting
// institutions, each read authorized and recorded (internal/rightsfacts).
type FactSource interface {
	// Read reads the facts of persons (at most MaxPersons) on day; persons not in the
	// register are left out.
	Read(ctx context.Context, cat *Catalogue, persons []string, day date.Date) (Batch, error)
	// Each calls fn with the facts of every person whose number comes after after, in
	// number order, in batches of at most NationBatch.
	Each(ctx context.Context, cat *Catalogue, after string, day date.Date, fn func(Batch) error) error
}

// Failure is a rule that could not decide for a person: the previous decision stays.
type Failure struct {
	Person string `json:"person"`
	Right  string `json:"right"`
	Reason string `json:"reason"`
}

// Result sums up a run of the engine.
type Result struct {
	Persons  int       `json:"persons"`
	Changed  int       `json:"decisions_changed"`
	Failed   int       `json:"failures"`
	Failures []Failure `json:"first_failures,omitempty"` // the first maxFailures
	Last     string    `json:"last_person,omitempty"`
}

const maxFailures = 100

// Engine decides rights: it reads facts, evaluates the catalogue and stores the
// decisions that change.
type Engine struct {
	Store Store
	Facts FactSource
	Now   func() time.Time
	// Workers evaluate a batch in parallel; 0: GOMAXPROCS.
	Workers int
	// Changed, when set, receives the decisions of a batch once they are stored (the hub
	// turns them into events for the granting institutions).
	Changed func(ctx context.Context, ds []Decision) error
	// Failed, when set, is told about each rule that failed for a person.
	Failed func(f Failure)

	cat atomic.Pointer[Catalogue]
}

// NewEngine returns an engine deciding with cat.
func NewEngine(cat *Catalogue, store Store, facts FactSource) *Engine {
	e := &Engine{Store: store, Facts: facts}
	e.cat.Store(cat)
	return e
}

// Catalogue returns the catalogue in force.
func (e *Engine) Catalogue() *Catalogue { return e.cat.Load() }

// SetCatalogue replaces the catalogue (after a rule was saved).
func (e *Engine) SetCatalogue(c *Catalogue) { e.cat.Store(c) }

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Persons re-evaluates persons (after a change of their facts) and stores what changed.
func (e *Engine) Persons(ctx context.Context, persons []string) (Result, error) {
	var res Result
	cat, day := e.Catalogue(), date.FromTime(e.now())
	for chunk := range slices.Chunk(persons, MaxPersons) {
		b, err := e.Facts.Read(ctx, cat, chunk, day)
		if err != nil {
			return res, err
		}
		v, err := e.judge(ctx, cat, b, false)
		if err != nil {
			return res, err
		}
		if err := e.store(ctx, v, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// Nation re-evaluates every person, resuming after the last person job finished (the
// store remembers it after each batch); progress, when set, is told after each batch.
// A finished run forgets its place, so the next starts over.
//
// The batches are evaluated while the one before is stored: one writer stores them in
// order, each with its mark, so that a run stopped anywhere resumes after the last batch
// stored.
func (e *Engine) Nation(ctx context.Context, job string, progress func(Result)) (Result, error) {
	var res Result
	after, err := e.Store.Progress(ctx, job)
	if err != nil {
		return res, err
	}
	cat, day := e.Catalogue(), date.FromTime(e.now())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	verdicts := make(chan verdict, 1)
	stored := make(chan error, 1)
	go func() {
		var err error
		for v := range verdicts {
			if err != nil {
				continue // drained: the run stops
			}
			if err = e.store(ctx, v, &res); err != nil {
				cancel()
				continue
			}
			if v.mark.Last != "" {
				res.Last = v.mark.Last
			}
			if progress != nil {
				progress(res)
			}
		}
		stored <- err
	}()
	err = e.Facts.Each(ctx, cat, after, day, func(b Batch) error {
		v, err := e.judge(ctx, cat, b, true)
		if err != nil {
			return err
		}
		if len(b.Facts) > 0 {
			v.mark = Mark{Job: job, Last: b.Facts[len(b.Facts)-1].Person}
		}
		select {
		case verdicts <- v:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(verdicts)
	if serr := <-stored; serr != nil {
		return res, serr // the cause, rather than the cancellation it made
	}
	if err != nil {
		return res, err
	}
	if err := e.Store.SetProgress(ctx, InService, day.String()); err != nil {
		return res, err
	}
	return res, e.Store.SetProgress(ctx, job, "")
}

// InService is the progress key holding the day of the last complete national run: until
// one has run, there are no decisions to keep current, and the incremental follower waits.
const InService = "in-service"

// verdict is a batch evaluated, to be stored.
type verdict struct {
	persons  int
	changes  []Decision
	failures []Failure
	mark     Mark
}

// judge evaluates a batch against the rights its persons hold (read in one range when the
// batch is a range of the register, as a nation's batches are).
func (e *Engine) judge(ctx context.Context, cat *Catalogue, b Batch, ranged bool) (verdict, error) {
	if len(b.Facts) == 0 {
		return verdict{}, nil
	}
	var held []Held
	if ranged {
		h, err := e.Store.HeldBetween(ctx, b.Facts[0].Person, b.Facts[len(b.Facts)-1].Person)
		if err != nil {
			return verdict{}, err
		}
		held = h
	} else {
		persons := make([]string, len(b.Facts))
		for i := range b.Facts {
			persons[i] = b.Facts[i].Person
		}
		for chunk := range slices.Chunk(persons, MaxPersons) {
			cur, err := e.Store.Current(ctx, chunk)
			if err != nil {
				return verdict{}, err
			}
			for _, d := range cur {
				if d.Holds() {
					held = append(held, Held{Person: d.Person, Right: d.Right})
				}
			}
		}
		slices.SortFunc(held, func(a, b Held) int { return cmpString(a.Person, b.Person) })
	}
	changes, failures := e.evaluate(cat, b, held, e.now().Unix())
	return verdict{persons: len(b.Facts), changes: changes, failures: failures}, nil
}

// store saves a verdict's changes in one transaction and reports them.
func (e *Engine) store(ctx context.Context, v verdict, res *Result) error {
	if len(v.changes) > 0 || v.mark.Job != "" {
		if err := e.Store.Save(ctx, v.changes, v.mark); err != nil {
			return err
		}
	}
	res.Persons += v.persons
	res.Changed += len(v.changes)
	res.Failed += len(v.failures)
	for _, f := range v.failures {
		if e.Failed != nil {
			e.Failed(f)
		}
		if len(res.Failures) < maxFailures {
			res.Failures = append(res.Failures, f)
		}
	}
	if len(v.changes) > 0 && e.Changed != nil {
		return e.Changed(ctx, v.changes)
	}
	return nil
}

// evaluate runs the catalogue on the batch in parallel and returns the decisions that
// change what the persons hold (sorted by person and right, as Current gives them).
func (e *Engine) evaluate(cat *Catalogue, b Batch, held []Held, decided int64) ([]Decision, []Failure) {
	workers := e.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(b.Facts)/64+1))
	prev := indexHeld(held)
	type out struct {
		changes  []Decision
		failures []Failure
	}
	outs := make([]out, workers)
	var next atomic.Int64
	const step = 64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := cat.evaluator()
			ev.refused = b.Refused
			o := &outs[w]
			for {
				lo := int(next.Add(step)) - step
				if lo >= len(b.Facts) {
					return
				}
				for i := lo; i < min(lo+step, len(b.Facts)); i++ {
					f := &b.Facts[i]
					ev.run(f)
					o.changes, o.failures = ev.diff(f, prev[f.Person], decided, o.changes, o.failures)
				}
			}
		}()
	}
	wg.Wait()
	var changes []Decision
	var failures []Failure
	for _, o := range outs {
		changes = append(changes, o.changes...)
		failures = append(failures, o.failures...)
	}
	slices.SortFunc(changes, func(a, b Decision) int {
		if a.Person != b.Person {
			return cmpString(a.Person, b.Person)
		}
		return cmpString(a.Right, b.Right)
	})
	return changes, failures
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// indexHeld groups the rights held by person (held sorted by person).
func indexHeld(held []Held) map[string][]Held {
	m := make(map[string][]Held)
	for i := 0; i < len(held); {
		j := i + 1
		for j < len(held) && held[j].Person == held[i].Person {
			j++
		}
		m[held[i].Person] = held[i:j:j]
		i = j
	}
	return m
}

// diff appends the decisions that change for the person just evaluated.
func (ev *evaluator) diff(f *Facts, prev []Held, decided int64, changes []Decision, failures []Failure) ([]Decision, []Failure) {
	for i, r := range ev.cat.rules {
		result := ev.results[i]
		if result == failed {
			failures = append(failures, Failure{Person: f.Person, Right: r.ID, Reason: reason(ev.errs[i])})
			continue
		}
		had := false
		for k := range prev {
			if prev[k].Right == r.ID {
				had = true
				break
			}
		}
		var res string
		switch {
		case result == held && !had:
			res = Granted
		case result != held && had:
			res = Ended
		default:
			continue
		}
		changes = append(changes, Decision{Person: f.Person, Right: r.ID, Version: r.Version, Result: res,
			Effective: f.Day, Facts: f.Used(r.Reads), Decided: decided, Institution: r.Institution, Group: groupOf(f)})
	}
	return changes, failures
}

func reason(err error) string {
	if err == nil {
		return "failed"
	}
	if fe, ok := err.(*fault.Error); ok {
		return clip(fe.Msg)
	}
	return clip(err.Error())
}

// date0 is today for e.
func date0(e *Engine) date.Date { return date.FromTime(e.now()) }
