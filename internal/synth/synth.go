package synth

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// Actor is the name the generator writes the directory under.
const Actor = "synth"

// Chunk sizes of the writes: big enough that per-transaction costs vanish and that the
// randomly ordered indexes (municipality, household) are rewritten few times, small
// enough that a transaction fits the writer's page cache (bigger ones measured slower).
const (
	personChunk = 125_000
	eventChunk  = 125_000
	lineChunk   = 250_000
)

// MaxPersons is the largest nation: employers' enterprise numbers and persons' sequences
// are drawn from ranges that hold this many.
const MaxPersons = 20_000_000

// Config says which nation to generate.
type Config struct {
	Seed     uint64
	Persons  int       // persons in the register, living and deceased, 1–MaxPersons
	Today    date.Date // the reference date, 2016-01-01 to 2099-12-31; ages and periods are relative to it
	Progress func(stage string, done, total int)
}

// Summary counts what was generated. Institutions are the network's, not the employers.
type Summary struct {
	Persons, Deceased, Households, Places, Employers, Institutions, Applications, Services,
	Authorizations, Subscriptions, Integrations, Events int
}

func (c Config) check() error {
	if c.Persons < 1 || c.Persons > MaxPersons {
		return fmt.Errorf("synth: persons must be from 1 to %d, not %d", MaxPersons, c.Persons)
	}
	if c.Today < date.Of(2016, 1, 1) || c.Today > date.Of(2099, 12, 31) || fromDayNum(dayNum(c.Today)) != c.Today {
		return fmt.Errorf("synth: today must be a date from 2016-01-01 to 2099-12-31, not %d", int(c.Today))
	}
	return nil
}

// bulkLoader is a population store that loads faster with its indexes built at the end
// (sqlstore's does).
type bulkLoader interface {
	BulkLoad(ctx context.Context) (finish func(context.Context) error, err error)
}

// Generate writes a nation into empty stores: places, persons and events into pop;
// institutions, applications, the civil-person service, authorizations, subscriptions
// and the person directory into dir. The same Seed, Persons and Today give the same data.
// The population and the directory are written at the same time by two goroutines, and
// Progress is called from both, one call at a time.
func Generate(ctx context.Context, cfg Config, pop population.Store, dir *directory.Directory) (Summary, error) {
	if err := cfg.check(); err != nil {
		return Summary{}, err
	}
	if pop == nil || dir == nil {
		return Summary{}, errors.New("synth: a population store and a directory are required")
	}
	n, err := newNation(ctx, cfg)
	if err != nil {
		return Summary{}, err
	}
	prog := newProgress(cfg.Progress, n.net.records()+len(n.eco.employers), cfg.Persons)
	finish := func(context.Context) error { return nil }
	if b, ok := pop.(bulkLoader); ok {
		if finish, err = b.BulkLoad(ctx); err != nil {
			return Summary{}, err
		}
	}
	var people, files Summary
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() (err error) {
		people, err = writePopulation(ectx, pop, n, prog)
		return err
	})
	eg.Go(func() (err error) {
		files, err = writeDirectory(ectx, dir, n, prog)
		return err
	})
	err = eg.Wait()
	if err == nil {
		prog.done()
		if cfg.Progress != nil {
			cfg.Progress("indexes", 0, 1)
		}
	}
	if ferr := finish(context.WithoutCancel(ctx)); err == nil { // also after a failure
		err = ferr
	}
	if err != nil {
		return Summary{}, err
	}
	if cfg.Progress != nil {
		cfg.Progress("indexes", 1, 1)
	}
	if people != files {
		return Summary{}, fmt.Errorf("synth: the passes drew different nations: %+v and %+v", people, files)
	}
	return n.summary(people), nil
}

// run draws the whole nation: the fixture, then units until the register is full.
func (g *gen) run(ctx context.Context) error {
	g.fixture()
	g.finish()
	for g.sum.Persons < g.total {
		g.draw(g.total - g.sum.Persons)
		g.finish()
		if g.err != nil {
			return g.err
		}
		if g.homes%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// progress turns the writers' counts into one stage at a time for the caller's bar:
// "directory" while records are stored, then "persons" while the register is written,
// then "person directory" while integrations catch up. Stages never go back, because
// each count only grows and the records come first in the directory goroutine.
type progress struct {
	mu                    sync.Mutex
	fn                    func(stage string, done, total int)
	records, recordsTotal int
	persons, filed, total int
}

func newProgress(fn func(string, int, int), records, persons int) *progress {
	return &progress{fn: fn, recordsTotal: records, total: persons}
}

// update changes the counts under the lock and reports; calls never overlap.
func (p *progress) update(change func(*progress)) {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	change(p)
	switch {
	case p.records < p.recordsTotal:
		p.fn("directory", p.records, p.recordsTotal)
	case p.persons < p.total:
		p.fn("persons", p.persons, p.total)
	default:
		p.fn("person directory", p.filed, p.total)
	}
}

// done reports the end.
func (p *progress) done() {
	p.update(func(p *progress) { p.records, p.persons, p.filed = p.recordsTotal, p.total, p.total })
}
