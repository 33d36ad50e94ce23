package portal

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/benefits"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// BenefitView is a benefit reported about the citizen, as the statuses page shows it.
type BenefitView struct {
	Right, Benefit, Institution, Reference string
	From, Until, Reported                  string
	Version                                int
	Runs                                   bool // on the day shown
}

// benefitsOf reads the benefits reported about the citizen (sealed under SELF) and
// hangs each on its right's status; those whose right the page does not show are
// returned apart.
func (p *Portal) benefitsOf(r *http.Request, person string, day date.Date, list []Status) ([]BenefitView, error) {
	if p.cfg.Benefits == nil {
		return nil, nil
	}
	reps, err := p.cfg.Benefits.Mine(r.Context(), person, Client)
	if err != nil {
		return nil, err
	}
	var other []BenefitView
	for _, b := range reps {
		v := BenefitView{Right: b.Right, Benefit: b.Benefit, Institution: b.Institution, Reference: b.Reference, From: b.From.String(),
			Until: dateText(b.Until), Reported: b.Recorded.UTC().Format("2006-01-02 15:04 UTC"), Version: b.Version, Runs: b.Holds(day)}
		i := -1
		for j := range list {
			if list[j].ID == RightPrefix+b.Right {
				i = j
			}
		}
		if i < 0 {
			other = append(other, v)
			continue
		}
		list[i].Benefits = append(list[i].Benefits, v)
	}
	return other, nil
}

// proBenefit takes a granting body's report from the professional page: the same
// service, checks and audit records as POST /benefits.
func (p *Portal) proBenefit(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	if ss.Pro == nil || p.cfg.Benefits == nil {
		http.Redirect(w, r, Prefix+"pro", http.StatusSeeOther)
		return nil
	}
	f := r.PostForm
	in := benefits.Input{Action: f.Get("action"), Person: strings.TrimSpace(f.Get("person")), Right: f.Get("right"),
		Reference: f.Get("reference"), Benefit: f.Get("benefit")}
	var bad error
	for _, d := range []struct {
		field string
		to    *date.Date
	}{{"from", &in.From}, {"until", &in.Until}} {
		if s := strings.TrimSpace(f.Get(d.field)); s != "" {
			v, err := date.Parse(s)
			if err != nil && bad == nil {
				bad = fault.Invalidf(d.field, "not a date (YYYY-MM-DD)")
			}
			*d.to = v
		}
	}
	// The request recorded is the form as the service reads it (the CSRF token left out).
	raw := []byte(in.Action + "\n" + in.Person + "\n" + in.Right + "\n" + in.Reference + "\n" + in.Benefit + "\n" + f.Get("from") + "\n" + f.Get("until"))
	by := exchange.Caller{ClientID: ss.Pro.ClientID, Institution: ss.Pro.Institution}
	var res benefits.Result
	err := bad
	if err == nil {
		res, err = p.cfg.Benefits.Submit(r.Context(), by, in, raw)
	} else {
		res.Audit, err = p.cfg.Benefits.Refused(r.Context(), by, in, raw, bad)
		if err == nil {
			err = bad
		}
	}
	if err != nil && res.Audit == 0 {
		return err // the audit log could not record it
	}
	out := map[string]any{}
	if err != nil {
		status := benefits.StatusOf(err)
		var fe *fault.Error
		msg := "error.unavailable"
		if errors.As(err, &fe) {
			msg = fe.Msg
		}
		field := ""
		if fe != nil {
			field = fe.Field
		}
		p.log.Info("portal: a benefit's report refused", "institution", by.Institution, "status", status, "field", field, "audit", res.Audit)
		w.WriteHeader(status)
		out["Refused"] = map[string]any{"Status": status, "Field": field, "Message": msg}
	} else {
		out["Reported"] = res
	}
	p.render(w, r, ss, lang, "pro", p.proData(ss, out), err != nil)
	return nil
}

// grants lists the rights the institution grants (its report form's choices).
func (p *Portal) grants(institution string) []string {
	if p.cfg.Rights == nil || p.cfg.Rights.Granting == nil {
		return nil
	}
	return p.cfg.Rights.Granting(institution)
}

// recorded is when a report was stored, as the pro page shows it.
func recorded(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }
