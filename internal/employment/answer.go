package employment

import (
	"context"
	"slices"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// SourceName is the employment source's name among the built-in sources: a service
// whose endpoint is builtin:employment is answered by it.
const SourceName = "employment"

// Fields are the fields of the employment source's record of a worker: an authorization
// grants some of them, and the exchange hands out no other.
var Fields = []string{"person", "employment_periods", "wages", "declarations"}

// Exchange is the employment source as the exchange asks it (exchange.Source): a
// worker's record by person number, with the employment periods (the relations not
// cancelled) and the wage lines in force, each by quarter. The hub decides, checks the
// asker's file on the worker, minimises to the fields granted and seals the exchange
// before anything is sent.
type Exchange struct {
	Store Store
	Today func() date.Date
}

// Search answers a look-up of one worker by person number. A question about a past day
// gets the periods begun and the quarters begun by that day as the source knew them at
// the end of that day (Store.KnownOn: relations as declared then, the lines of the files
// received by then), a period ended later shown as open.
func (x *Exchange) Search(ctx context.Context, r exchange.SourceRequest) (exchange.SourceResult, error) {
	if r.Query.Kind != query.KindID {
		return exchange.SourceResult{}, fault.Invalidf("query_type", "the employment source answers identifier look-ups (idtype-value) only")
	}
	if k := exchange.IDTypeOf(r.Query.IDType); k != exchange.IDPerson && k != exchange.IDUnique {
		return exchange.SourceResult{}, fault.Invalidf("query.type", "%q: the employment source is asked by person number (PN)", r.Query.IDType)
	}
	if !ident.ValidPerson(r.Query.IDValue) {
		return exchange.SourceResult{Records: []map[string]any{}}, nil
	}
	day := r.Day
	if day.IsZero() {
		day = x.Today()
	}
	rec, err := x.record(ctx, r.Query.IDValue, day, r.Fields == nil || slices.Contains(r.Fields, "declarations"))
	if err != nil {
		return exchange.SourceResult{}, err
	}
	if r.Fields != nil {
		rec = exchange.Minimise(rec, append(r.Fields, "person"))
	}
	return exchange.SourceResult{Records: []map[string]any{rec}, Total: 1}, nil
}

func (x *Exchange) record(ctx context.Context, person string, day date.Date, declarations bool) (map[string]any, error) {
	var rels []Relation
	var lines []WageLine
	var err error
	if day < x.Today() { // as the source knew it at the end of that day
		rels, lines, err = x.Store.KnownOn(ctx, person, day.AddDays(1).Time().Add(-time.Nanosecond))
	} else {
		if rels, err = x.Store.Relations(ctx, person); err == nil {
			lines, err = x.Store.WageLines(ctx, person)
		}
	}
	if err != nil {
		return nil, err
	}
	periods := []any{}
	for _, r := range rels {
		if r.Status == Cancelled || r.Start > day {
			continue
		}
		p := map[string]any{"employer": r.Employer, "start": r.Start.String(), "end": nil, "contract": r.Contract,
			"fraction": r.Fraction, "sector": r.Sector}
		if r.End != date.Max && r.End <= day {
			p["end"] = r.End.String()
		}
		if r.Establishment != "" {
			p["establishment"] = r.Establishment
		}
		periods = append(periods, p)
	}
	wages := []any{}
	for _, w := range lines {
		if w.Replaced || w.Quarter.Start() > day {
			continue
		}
		wages = append(wages, map[string]any{"quarter": w.Quarter.String(), "employer": w.Employer, "wages": w.Wages,
			"bonus": w.Bonus, "days": w.Days, "hours": w.Hours, "fraction": w.Fraction, "contribution": w.Contribution,
			"declared_by": w.DeclaredBy})
	}
	rec := map[string]any{"person": person, "employment_periods": periods, "wages": wages}
	if declarations {
		ds, err := x.declarations(ctx, person, day.AddDays(1).Time())
		if err != nil {
			return nil, err
		}
		rec["declarations"] = ds
	}
	return rec, nil
}

// declarations lists what was declared about the worker and received before the
// instant until, oldest first: the immediate declarations (hire, exit, cancel,
// correct) and the social-risk declarations, each with who declared it (the employer
// or its payroll office) and when. The quarterly files' declarant is each wage line's.
func (x *Exchange) declarations(ctx context.Context, person string, until time.Time) ([]any, error) {
	ds, err := x.Store.Declarations(ctx, person)
	if err != nil {
		return nil, err
	}
	risks, err := x.Store.Risks(ctx, person)
	if err != nil {
		return nil, err
	}
	type dated struct {
		at  time.Time
		rec map[string]any
	}
	var all []dated
	for _, d := range ds {
		if !d.Received.Before(until) {
			continue
		}
		day := d.Start
		if d.Kind == Exit {
			day = d.End
		}
		all = append(all, dated{d.Received, map[string]any{"kind": d.Kind, "employer": d.Employer, "day": dayText(day),
			"declared_by": d.DeclaredBy, "received": d.Received.UTC().Format(time.RFC3339), "late": d.Late}})
	}
	for _, r := range risks {
		if !r.Received.Before(until) {
			continue
		}
		all = append(all, dated{r.Received, map[string]any{"kind": "risk." + r.Risk + "." + r.Phase, "employer": r.Employer,
			"day": dayText(r.Day), "declared_by": r.DeclaredBy, "received": r.Received.UTC().Format(time.RFC3339), "late": r.Late,
			"institution": r.Institution}})
	}
	slices.SortStableFunc(all, func(a, b dated) int { return a.at.Compare(b.at) })
	out := make([]any, len(all))
	for i, d := range all {
		out[i] = d.rec
	}
	return out, nil
}

func dayText(d date.Date) string {
	if d.IsZero() || d == date.Max {
		return ""
	}
	return d.String()
}
