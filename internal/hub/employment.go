package hub

import (
	"context"
	"slices"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// employmentSource is the employment source over the civil database (the built-in
// sources share it: a declaration's event is written in its transaction), its mandates
// read from the directory.
func employmentSource(st *Stores) *employment.Source {
	return &employment.Source{Store: st.Civil.Employment(), Mandates: Mandates(st.Directory), Competent: Competent(st.Directory)}
}

// Competent names the institution competent for a social risk: the institution of the
// directory's service social-risk-<risk>. A risk without one is refused (unavailable),
// never sent elsewhere.
func Competent(d *directory.Directory) employment.Competent {
	return func(ctx context.Context, risk string) (string, error) {
		svc, _, err := directory.Get[directory.Service](ctx, d, employment.RiskServicePrefix+risk)
		if fault.KindOf(err) == fault.NotFound {
			return "", fault.Unavailablef(err, "no institution is competent for %s in the directory (service %s%s)", risk, employment.RiskServicePrefix, risk)
		}
		return svc.Institution, err
	}
}

// Mandates says whether an institution may declare for an employer: it is the employer
// (its enterprise number), or the employer is among its mandates (a payroll office).
// Anything else, an unknown institution included, is refused.
func Mandates(d *directory.Directory) employment.Mandates {
	return func(ctx context.Context, institution, employer string) error {
		inst, _, err := directory.Get[directory.Institution](ctx, d, institution)
		if fault.KindOf(err) == fault.NotFound {
			return fault.Forbiddenf("%s may not declare for %s", institution, employer)
		}
		if err != nil {
			return err
		}
		if inst.Enterprise == employer || slices.Contains(inst.Mandates, employer) {
			return nil
		}
		return fault.Forbiddenf("%s has no mandate to declare for %s", institution, employer)
	}
}
