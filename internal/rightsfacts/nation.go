package rightsfacts

import (
	"context"

	"github.com/crossroads-hub/crossroads/internal/date"
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
	var all []member
	for last := ""; ; {
		bs, err := r.Roster.Briefs(ctx, last, pageSize)
		if err != nil {
			return err
		}
		if len(bs) == 0 {
			break
		}
		ms, err := r.members(ctx, bs, day, wages)
		if err != nil {
			return err
		}
		all = append(all, ms...)
		last = bs[len(bs)-1].Number
	}
	hh := make(map[string]*household, len(all)/2)
	for i := range all {
		k := householdKey(&all[i])
		hh[k] = addTo(hh[k], &all[i])
	}
	out := make([]rights.Facts, 0, batch)
	for i := range all {
		m := &all[i]
		if after != "" && m.brief.Number <= after {
			continue
		}
		out = append(out, facts(m, hh[householdKey(m)], regions, day))
		if len(out) == batch {
			if err := fn(out); err != nil {
				return err
			}
			out = make([]rights.Facts, 0, batch)
		}
	}
	if len(out) > 0 {
		return fn(out)
	}
	return nil
}
