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
	all := make([]member, 0, pageSize)
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
	// Each member's household by index (a person without one is a household alone):
	// one map look-up a person, no key made.
	hhs := make([]household, 0, len(all)/2)
	of := make([]int32, len(all))
	index := make(map[string]int32, len(all)/2)
	for i := range all {
		m := &all[i]
		k, ok := index[m.brief.Household]
		if !ok || m.brief.Household == "" {
			k = int32(len(hhs))
			hhs = append(hhs, household{})
			if m.brief.Household != "" {
				index[m.brief.Household] = k
			}
		}
		of[i] = k
		hhs[k].add(m)
	}
	out := make([]rights.Facts, 0, batch)
	for i := range all {
		m := &all[i]
		if after != "" && m.brief.Number <= after {
			continue
		}
		out = append(out, facts(m, &hhs[of[i]], regions, day))
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
