package hub

import (
	"context"
	"slices"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// employmentSource is the employment source over the civil database (the built-in
// sources share it: a declaration's event is written in its transaction), its mandates
// read from the directory through the stack's cache.
func employmentSource(st *Stores, mandates *mandateCache) *employment.Source {
	return &employment.Source{Store: st.Civil.Employment(), Mandates: mandates.check, Competent: Competent(st.Directory)}
}

// Competent names the institution competent for a worker's social risk on a day. The
// directory's service social-risk-<risk> says the nation takes the risk; a risk each
// worker is insured for with an institution of their own (employment.InsuredWith:
// incapacity, with the health insurer) goes to the institution of that sector holding
// the worker's file in the person directory on the day, and only there: a worker with no
// such file, or with files at several, is refused (the declaration would otherwise reach
// an institution with no business reading it). Any other risk goes to the service's
// institution. A risk without a service is refused (unavailable), never sent elsewhere.
func Competent(d *directory.Directory) employment.Competent {
	return func(ctx context.Context, risk, person string, day date.Date) (string, error) {
		svc, _, err := directory.Get[directory.Service](ctx, d, employment.RiskServicePrefix+risk)
		if fault.KindOf(err) == fault.NotFound {
			return "", fault.Unavailablef(err, "no institution is competent for %s in the directory (service %s%s)", risk, employment.RiskServicePrefix, risk)
		}
		if err != nil {
			return "", err
		}
		sector, own := employment.InsuredWith[risk]
		if !own {
			return svc.Institution, nil
		}
		files, err := d.Files(ctx, person, day)
		if err != nil {
			return "", err
		}
		var insurers []string
		for _, f := range files {
			inst, _, err := directory.Get[directory.Institution](ctx, d, f.Institution)
			if err != nil && fault.KindOf(err) != fault.NotFound {
				return "", err
			}
			if err == nil && inst.Sector == sector && !slices.Contains(insurers, inst.Code) {
				insurers = append(insurers, inst.Code)
			}
		}
		switch len(insurers) {
		case 0:
			return "", fault.Invalidf("person", "%s has no %s insurer in the person directory on %s: a declaration of %s goes only to the worker's own insurer; it is not sent", person, sector, day, risk)
		case 1:
			return insurers[0], nil
		}
		return "", fault.Conflictf("person", "%s has files at %d %s insurers on %s: the person directory must say which one insures the worker; the declaration is not sent", person, len(insurers), sector, day)
	}
}
