package rightsfacts

import (
	"context"

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
	// The register is read page after page by one goroutine while this one computes the
	// members of the page before and adds them to their households (by index: a person
	// without one is a household alone; one map look-up a person, no key made).
	pages := make(chan []population.Brief, 2)
	var readErr error
	rctx, stop := context.WithCancel(ctx)
	defer func() {
		stop()
		for range pages { // until the reader is gone
		}
	}()
	go func() {
		defer close(pages)
		for last := ""; ; {
			bs, err := r.Roster.Briefs(rctx, last, pageSize)
			if err != nil || len(bs) == 0 {
				readErr = err
				return
			}
			select {
			case pages <- bs:
			case <-rctx.Done():
				readErr = rctx.Err()
				return
			}
			last = bs[len(bs)-1].Number
		}
	}()
	var all [][]member
	var of [][]int32
	var hhs []household
	index := map[string]int32{}
	for bs := range pages {
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
	if readErr != nil { // pages is closed: the reader is done
		return readErr
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
