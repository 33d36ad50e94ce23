package synth

import (
	"context"
	"fmt"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// eventChunk bounds one PutEvents call; a chunk of persons brings about 1.6 events each.
const eventChunk = 20_000

// writePopulation stores the places, then every chunk of persons and their events.
func writePopulation(ctx context.Context, pop population.Store, places []population.Place, in <-chan popChunk, prog *progress) error {
	if err := pop.PutPlaces(ctx, places); err != nil {
		return fmt.Errorf("synth: store places: %w", err)
	}
	done := 0
	for c := range in {
		if err := pop.PutPersons(ctx, c.persons); err != nil {
			return fmt.Errorf("synth: store persons: %w", err)
		}
		for evs := c.events; len(evs) > 0; {
			n := min(len(evs), eventChunk)
			if err := pop.PutEvents(ctx, evs[:n]); err != nil {
				return fmt.Errorf("synth: store events: %w", err)
			}
			evs = evs[n:]
		}
		done += len(c.persons)
		prog.update(func(p *progress) { p.persons = done })
	}
	return nil
}

// writeDirectory stores the network and the employers, then the person directory, which
// refers to them.
func writeDirectory(ctx context.Context, dir *directory.Directory, net network, eco economy, in <-chan fileChunk, prog *progress) error {
	if err := net.put(ctx, dir, eco, prog); err != nil {
		return err
	}
	for c := range in {
		rep, err := dir.Integrate(ctx, Actor, c.lines, directory.Atomic)
		if err != nil {
			return fmt.Errorf("synth: integrate: %w", err)
		}
		if rep.Applied != len(c.lines) {
			return refused(rep, c.lines)
		}
		prog.update(func(p *progress) { p.filed = c.persons })
	}
	return nil
}

// refused names the first line the directory refused: a generator bug.
func refused(rep directory.Report, lines []directory.Line) error {
	for _, r := range rep.Lines {
		if r.Status == directory.LineRejected {
			l := lines[r.Line-1]
			return fmt.Errorf("synth: person directory refused line %d (%s %s %s from %s to %s): %s: %s",
				r.Line, l.Person, l.Institution, l.Capacity, l.Begin, l.End, r.Field, r.Error)
		}
	}
	return fmt.Errorf("synth: person directory applied %d of %d lines", rep.Applied, len(lines))
}

// records counts the directory records of the network.
func (n network) records() int {
	return len(n.institutions) + len(n.applications) + len(n.services) + len(n.authorizations) + len(n.subscriptions)
}

// put stores the records in dependency order: institutions before what they own, the
// service before the authorizations on it. Records must not exist yet.
func (n network) put(ctx context.Context, d *directory.Directory, eco economy, prog *progress) error {
	done := 0
	step := func(err error, what, key string) error {
		if err != nil {
			return fmt.Errorf("synth: store %s %s: %w", what, key, err)
		}
		if done++; done%256 == 0 {
			prog.update(func(p *progress) { p.records = done })
		}
		return nil
	}
	for _, v := range append(append([]directory.Institution(nil), n.institutions...), eco.employers...) {
		if err := step(put(ctx, d, v), "institution", v.Code); err != nil {
			return err
		}
	}
	for _, v := range n.applications {
		if err := step(put(ctx, d, v), "application", v.ID); err != nil {
			return err
		}
	}
	for _, v := range n.services {
		if err := step(put(ctx, d, v), "service", v.ID); err != nil {
			return err
		}
	}
	for _, v := range n.authorizations {
		if err := step(put(ctx, d, v), "authorization", v.ID); err != nil {
			return err
		}
	}
	for _, v := range n.subscriptions {
		if err := step(put(ctx, d, v), "subscription", v.ID); err != nil {
			return err
		}
	}
	prog.update(func(p *progress) { p.records = done })
	return nil
}

// put creates one record.
func put[T directory.Entity, P directory.EntityPtr[T]](ctx context.Context, d *directory.Directory, v T) error {
	_, _, err := directory.Put[T, P](ctx, d, Actor, v, directory.MustCreate)
	return err
}
