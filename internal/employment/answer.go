package employment

import (
	"context"
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
var Fields = []string{"person", "employment_periods", "wages"}

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
	rec, err := x.record(ctx, r.Query.IDValue, day)
	if err != nil {
		return exchange.SourceResult{}, err
	}
	if r.Fields != nil {
		rec = exchange.Minimise(rec, append(r.Fields, "person"))
	}
	return exchange.SourceResult{Records: []map[string]any{rec}, Total: 1}, nil
}

func (x *Exchange) record(ctx context.Context, person string, day date.Date) (map[string]any, error) {
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
			"bonus": w.Bonus, "days": w.Days, "hours": w.Hours, "fraction": w.Fraction, "contribution": w.Contribution})
	}
	return map[string]any{"person": person, "employment_periods": periods, "wages": wages}, nil
}
