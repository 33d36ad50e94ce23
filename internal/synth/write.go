package synth

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// writePopulation stores the places, then the persons and their events band by band,
// each band sorted by person number.
func writePopulation(ctx context.Context, pop population.Store, n *nation, prog *progress) (Summary, error) {
	if err := pop.PutPlaces(ctx, n.geo.places()); err != nil {
		return Summary{}, fmt.Errorf("synth: store places: %w", err)
	}
	var sum Summary
	done := 0
	for i := range n.bands {
		g := n.pass(populationPass, i)
		if err := g.run(ctx); err != nil {
			return sum, err
		}
		sortPopulation(g.persons, g.events)
		for ps, evs := g.persons, g.events; len(ps) > 0 || len(evs) > 0; {
			k := min(len(ps), personChunk)
			var err error
			if evs, err = putPopulation(ctx, pop, ps[:k], evs); err != nil {
				return sum, err
			}
			ps, done = ps[k:], done+k
			prog.update(func(p *progress) { p.persons = done })
		}
		sum = g.sum
	}
	return sum, nil
}

// putPopulation stores persons and their events, which lead evs (both are sorted by
// person), and returns the events left.
func putPopulation(ctx context.Context, pop population.Store, ps []population.Person, evs []population.Event) ([]population.Event, error) {
	if len(ps) > 0 {
		if err := pop.PutPersons(ctx, ps); err != nil {
			return nil, fmt.Errorf("synth: store persons: %w", err)
		}
	}
	n := len(evs)
	if len(ps) > 0 {
		last := ps[len(ps)-1].Number
		n, _ = slices.BinarySearchFunc(evs, last, func(e population.Event, t string) int {
			return cmp.Or(strings.Compare(e.Person, t), -1) // the first index after t's events
		})
	}
	for i := 0; i < n; i += eventChunk {
		if err := pop.PutEvents(ctx, evs[i:min(i+eventChunk, n)]); err != nil {
			return nil, fmt.Errorf("synth: store events: %w", err)
		}
	}
	return evs[n:], nil
}

// writeDirectory stores the network and the employers, then the person directory, which
// refers to them, band by band, each band sorted by person number.
func writeDirectory(ctx context.Context, dir *directory.Directory, n *nation, prog *progress) (Summary, error) {
	if err := n.net.put(ctx, dir, n.eco, prog); err != nil {
		return Summary{}, err
	}
	var sum Summary
	done := 0
	for i := range n.bands {
		g := n.pass(directoryPass, i)
		if err := g.run(ctx); err != nil {
			return sum, err
		}
		sortLines(g.lines)
		for j := 0; j < len(g.lines); j += lineChunk {
			chunk := g.lines[j:min(j+lineChunk, len(g.lines))]
			rep, err := dir.Integrate(ctx, Actor, chunk, directory.Atomic)
			if err != nil {
				return sum, fmt.Errorf("synth: integrate: %w", err)
			}
			if rep.Applied != len(chunk) {
				return sum, refused(rep, chunk)
			}
			filed := done + g.kept*(j+len(chunk))/len(g.lines)
			prog.update(func(p *progress) { p.filed = filed })
		}
		done += g.kept
		sum = g.sum
	}
	return sum, nil
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
	for _, v := range n.institutions {
		if err := step(put(ctx, d, v), "institution", v.Code); err != nil {
			return err
		}
	}
	// Employers are many (Persons/25): they go in batches, one transaction each.
	for from := 0; from < len(eco.employers); from += 2000 {
		batch := eco.employers[from:min(from+2000, len(eco.employers))]
		if err := directory.CreateAll(ctx, d, Actor, batch); err != nil {
			return fmt.Errorf("synth: store employers: %w", err)
		}
		done += len(batch)
		prog.update(func(p *progress) { p.records = done })
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

// Chunks go to the stores in person-number order (see bands.go). The structs are large,
// so they are not sorted directly: their positions are, packed behind the person number
// in one uint64, and the structs then move once each to their places. Equal numbers keep
// the order they were drawn in, and the few records of one person are put in their final
// order by insertion.

// seqBits leave room for 2^27 records in a band: ample, as bands hold 250,000 persons.
const seqBits = 27

// order returns the permutation that sorts records by person number, stably.
func order(n int, number func(i int) string) []int32 {
	keys := make([]uint64, n)
	for i := range keys {
		pn, _ := strconv.ParseUint(number(i), 10, 64) // the generator made the numbers: they parse
		keys[i] = pn<<seqBits | uint64(i)
	}
	slices.Sort(keys)
	from := make([]int32, n)
	for i, k := range keys {
		from[i] = int32(k & (1<<seqBits - 1))
	}
	return from
}

// permute moves xs[from[i]] to xs[i] for every i, following the cycles of the permutation
// so that every element moves once; from is spent.
func permute[T any](xs []T, from []int32) {
	for i := range from {
		if from[i] < 0 {
			continue
		}
		tmp, j := xs[i], i
		for {
			k := int(from[j])
			from[j] = -1
			if k == i {
				xs[j] = tmp
				break
			}
			xs[j], j = xs[k], k
		}
	}
}

// settle sorts runs of records of the same person by less, by insertion: runs are short.
func settle[T any](xs []T, same func(a, b *T) bool, less func(a, b *T) bool) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && same(&xs[j-1], &xs[j]) && less(&xs[j], &xs[j-1]); j-- {
			xs[j-1], xs[j] = xs[j], xs[j-1]
		}
	}
}

// sortPopulation orders persons by number and events by person and date; events of a
// person on the same day stay in the order they happened.
func sortPopulation(ps []population.Person, evs []population.Event) {
	permute(ps, order(len(ps), func(i int) string { return ps[i].Number }))
	permute(evs, order(len(evs), func(i int) string { return evs[i].Person }))
	settle(evs, func(a, b *population.Event) bool { return a.Person == b.Person },
		func(a, b *population.Event) bool { return a.Date < b.Date })
}

// sortLines orders lines by the person directory's key: person, institution, capacity, begin.
func sortLines(ls []directory.Line) {
	permute(ls, order(len(ls), func(i int) string { return ls[i].Person }))
	settle(ls, func(a, b *directory.Line) bool { return a.Person == b.Person }, func(a, b *directory.Line) bool {
		return cmp.Or(strings.Compare(a.Institution, b.Institution), strings.Compare(a.Capacity, b.Capacity),
			cmp.Compare(a.Begin, b.Begin)) < 0
	})
}
