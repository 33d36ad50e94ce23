package rightsfacts

import (
	"context"
	"sort"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/rights"
)

// pageSize is how many persons a read of the whole register takes at once.
const pageSize = 50_000

// Nation calls fn with the facts of every person after after ("" from the first), in
// number order, batch persons at a time. Households are summed over the whole register
// first (a member before after counts in their household too).
func (r *Registers) Nation(ctx context.Context, after string, day date.Date, batch int, fn func([]rights.Facts) error) error {
	regions, err := r.regions(ctx)
	if err != nil {
		return err
	}
	wages, err := r.quarterWages(ctx, day)
	if err != nil {
		return err
	}
	// The register is read page after page by two goroutines, each a half of the
	// number space, while this one computes the members of each page, in number order,
	// and adds them to their households (by index: a person without one is a household
	// alone; one map look-up a person, no key made).
	rctx, stop := context.WithCancel(ctx)
	parts := make([]*readPart, len(nationSplits)-1)
	for i := range parts {
		parts[i] = &readPart{pages: make(chan []population.Brief, 64)}
		go parts[i].read(rctx, r.Roster, nationSplits[i], nationSplits[i+1])
	}
	defer func() {
		stop()
		for _, p := range parts {
			for range p.pages { // until its reader is gone
			}
		}
	}()
	var all [][]member
	var of [][]int32
	var hhs []household
	index := map[string]int32{}
	for _, p := range parts {
		for bs := range p.pages {
			ms, err := r.members(ctx, bs, day, wages)
			if err != nil {
				return err
			}
			in := make([]int32, len(ms))
			for i := range ms {
				m := &ms[i]
				k, ok := index[m.brief.Household]
				if !ok || m.brief.Household == "" {
					k = int32(len(hhs))
					hhs = append(hhs, household{})
					if m.brief.Household != "" {
						index[m.brief.Household] = k
					}
				}
				in[i] = k
				hhs[k].add(m)
			}
			all, of = append(all, ms), append(of, in)
		}
		if p.err != nil { // its pages are closed: its reader is done
			return p.err
		}
	}
	out := make([]rights.Facts, 0, batch)
	for p, ms := range all {
		for i := range ms {
			m := &ms[i]
			if after != "" && m.brief.Number <= after {
				continue
			}
			out = append(out, facts(m, &hhs[of[p][i]], regions, day))
			if len(out) == batch {
				if err := fn(out); err != nil {
					return err
				}
				out = make([]rights.Facts, 0, batch)
			}
		}
	}
	if len(out) > 0 {
		return fn(out)
	}
	return nil
}

// nationSplits cut the person numbers into the parts read in parallel: the numbers begin
// with the birth date's year in two digits, so that the middle of the space halves a
// nation roughly (a part that holds more only takes longer).
var nationSplits = []string{"", "49999999999", ""}

// readPart reads the briefs of the persons after from up to to ("": to the end), a page
// at a time, into pages, which it closes when done (err set first).
type readPart struct {
	pages chan []population.Brief
	err   error
}

func (p *readPart) read(ctx context.Context, roster population.Roster, from, to string) {
	defer close(p.pages)
	for last := from; ; {
		bs, err := roster.Briefs(ctx, last, pageSize)
		if err != nil || len(bs) == 0 {
			p.err = err
			return
		}
		end := len(bs)
		if to != "" {
			end = sort.Search(len(bs), func(i int) bool { return bs[i].Number > to })
		}
		if end > 0 {
			select {
			case p.pages <- bs[:end]:
			case <-ctx.Done():
				p.err = ctx.Err()
				return
			}
		}
		if end < len(bs) {
			return
		}
		last = bs[len(bs)-1].Number
	}
}
