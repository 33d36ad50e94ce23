package portal

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/rights"
)

// RightPrefix starts the status id of a statute or right of the rights engine.
const RightPrefix = "right:"

// Rights is the rights engine (#19) as the portal uses it. Its decisions take the
// place of the derived registries' statuses they cover.
type Rights struct {
	// Explain explains every statute and right in force on day to the person
	// themselves, the reading sealed in the audit log under SELF
	// (rightsfacts.Self.Explain).
	Explain func(ctx context.Context, person string, day date.Date) ([]rights.Explanation, error)
	// Decision is the person's decision on right in force on day (nil: none): a
	// verifier's check that a proof still holds today.
	Decision func(ctx context.Context, person, right string, day date.Date) (*rights.Decision, error)
	// Title names a right of the catalogue ("" when it has none).
	Title func(right string) string
	// Granting lists the rights an institution grants (the catalogue's), those a
	// granting body's application may report benefits for.
	Granting func(institution string) []string
	// Covers lists, by right, the derived statuses its decision takes the place of
	// ("disabled", "programme:<name>").
	Covers map[string][]string
}

// RuleView is the rule of a right as the citizen reads it.
type RuleView struct {
	ID, Kind, Title, Description, LegalReference, Institution, Readable, Expr string
	Version                                                                   int
	Uses                                                                      []UsedStatute
}

// UsedStatute is a statute the rule uses and whether the person holds it.
type UsedStatute struct {
	ID, Title string
	Holds     bool
}

// DecisionView is the decision in force on the day.
type DecisionView struct {
	Result, Effective, Decided string
	Version                    int
}

// decided combines the rights engine's statuses with the derived registries': a
// derived status is shown only when no decision of the engine covers it.
type decided struct {
	rights  *Rights
	derived Statuses
}

func (d *decided) Statuses(ctx context.Context, person string, day date.Date) ([]Status, error) {
	exs, err := d.rights.Explain(ctx, person, day)
	if err != nil {
		return nil, err
	}
	out := make([]Status, 0, len(exs))
	covered := map[string]bool{}
	for _, ex := range exs {
		st := statusOf(ex)
		if st.Decision != nil {
			for _, c := range d.rights.Covers[ex.Right] {
				covered[c] = true
			}
		}
		out = append(out, st)
	}
	if d.derived == nil {
		return out, nil
	}
	old, err := d.derived.Statuses(ctx, person, day)
	if err != nil {
		return nil, err
	}
	for _, s := range old {
		if !covered[s.ID] {
			out = append(out, s)
		}
	}
	return out, nil
}

// InForce is the decision of the history in force on day: the latest taking effect on
// or before it.
func InForce(hist []rights.Decision, day date.Date) *rights.Decision {
	for i := len(hist) - 1; i >= 0; i-- {
		if hist[i].Effective <= day {
			return &hist[i]
		}
	}
	return nil
}

// statusOf is the status an explanation shows: held when the decision in force on the
// day grants it; the facts with their source and date; the rule in words.
func statusOf(ex rights.Explanation) Status {
	st := Status{ID: RightPrefix + ex.Right, Title: ex.Rule.Title, Source: ex.Rule.Institution, Evaluated: ex.Holds, Failure: ex.Failure,
		Rule: &RuleView{ID: ex.Rule.ID, Kind: ex.Rule.Kind, Title: ex.Rule.Title, Description: ex.Rule.Description,
			LegalReference: ex.Rule.LegalReference, Institution: ex.Rule.Institution, Readable: ex.Rule.Readable, Expr: ex.Rule.Expr,
			Version: ex.Rule.Version}}
	for _, u := range ex.Statutes {
		st.Rule.Uses = append(st.Rule.Uses, UsedStatute{ID: u.ID, Title: u.Title, Holds: u.Holds})
	}
	for _, f := range ex.Facts {
		st.Facts = append(st.Facts, Fact{Name: f.Name, Value: f.Value, Source: f.Source, Date: dateText(f.Date)})
	}
	if d := InForce(ex.History, ex.Day); d != nil {
		st.Holds = d.Holds()
		st.Decision = &DecisionView{Result: d.Result, Effective: d.Effective.String(), Version: d.Version,
			Decided: time.Unix(d.Decided, 0).UTC().Format("2006-01-02 15:04 UTC")}
	}
	return st
}

func dateText(d date.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// heldToday says whether the person still holds the status of a proof today: a right
// of the engine by its decision in force; a derived status is not checked again (its
// proof is as good as its code or credential).
func (p *Portal) heldToday(ctx context.Context, person, status string) (bool, error) {
	right, ok := strings.CutPrefix(status, RightPrefix)
	if !ok || p.cfg.Rights == nil || p.cfg.Rights.Decision == nil {
		return !ok, nil // a right no engine can check is not valid
	}
	d, err := p.cfg.Rights.Decision(ctx, person, right, p.today())
	if err != nil {
		return false, err
	}
	return d != nil && d.Holds(), nil
}

// statusName is the name of a status id in lang, a right's by its title.
func (p *Portal) statusName(lang, id string) string {
	if right, ok := strings.CutPrefix(id, RightPrefix); ok && p.cfg.Rights != nil && p.cfg.Rights.Title != nil {
		if t := p.cfg.Rights.Title(right); t != "" {
			return t
		}
	}
	return StatusName(lang, id)
}

// holders lists the statuses held (those a proof can be made of).
func holders(list []Status) []Status {
	return slices.DeleteFunc(slices.Clone(list), func(s Status) bool { return !s.Holds })
}
