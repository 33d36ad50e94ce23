package synth

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// Actor is the name the generator writes the directory under.
const Actor = "synth"

// Chunk sizes: big enough that per-transaction costs vanish, small enough that the
// generator streams rather than holds the nation.
const (
	personChunk = 20_000
	lineChunk   = 100_000
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
	r := newRnd(cfg.Seed)
	geo := newGeography(r, cfg.Persons)
	net := newNetwork(r, geo)
	net.authorize(cfg.Today)
	net.subscribe()
	eco, err := newEconomy(r, geo, cfg.Persons)
	if err != nil {
		return Summary{}, err
	}
	g := newGen(cfg, r, geo, net, eco)
	prog := newProgress(cfg.Progress, net.records()+len(eco.employers), cfg.Persons)
	people, files := make(chan popChunk, 2), make(chan fileChunk, 2)
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		defer close(people)
		defer close(files)
		return g.run(ectx, people, files)
	})
	eg.Go(func() error { return writePopulation(ectx, pop, geo.places(), people, prog) })
	eg.Go(func() error { return writeDirectory(ectx, dir, net, eco, files, prog) })
	if err := eg.Wait(); err != nil {
		return Summary{}, err
	}
	prog.done()
	s := g.sum
	s.Places, s.Employers = len(geo.regions)+len(geo.munis), len(eco.employers)
	s.Institutions, s.Applications, s.Services = len(net.institutions), len(net.applications), len(net.services)
	s.Authorizations, s.Subscriptions = len(net.authorizations), len(net.subscriptions)
	return s, nil
}

// popChunk is a batch of the register; fileChunk a batch of the person directory with
// the number of persons whose lines are complete once it is applied.
type (
	popChunk struct {
		persons []population.Person
		events  []population.Event
	}
	fileChunk struct {
		lines   []directory.Line
		persons int
	}
)

// run draws the fixture, then units until the register is full, sending chunks as they fill.
func (g *gen) run(ctx context.Context, people chan<- popChunk, files chan<- fileChunk) error {
	g.fixture()
	g.finish()
	for g.sum.Persons < g.total {
		g.draw(g.total - g.sum.Persons)
		g.finish()
		if g.err != nil {
			return g.err
		}
		if err := g.flush(ctx, people, files, false); err != nil {
			return err
		}
	}
	return g.flush(ctx, people, files, true)
}

// flush sends the full chunks, or every non-empty one at the end.
func (g *gen) flush(ctx context.Context, people chan<- popChunk, files chan<- fileChunk, end bool) error {
	if len(g.persons) >= personChunk || (end && len(g.persons) > 0) {
		c := popChunk{persons: g.persons, events: g.events}
		g.persons, g.events = make([]population.Person, 0, personChunk+8), make([]population.Event, 0, 2*personChunk)
		if err := send(ctx, people, c); err != nil {
			return err
		}
	}
	if len(g.lines) >= lineChunk || (end && len(g.lines) > 0) {
		c := fileChunk{lines: g.lines, persons: g.sum.Persons}
		g.lines = make([]directory.Line, 0, lineChunk+64)
		return send(ctx, files, c)
	}
	return nil
}

func send[T any](ctx context.Context, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
