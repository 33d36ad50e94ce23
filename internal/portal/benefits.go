package portal

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
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

// mine reads the benefits reported about the citizen (sealed under SELF); none without
// a benefits service.
func (p *Portal) mine(r *http.Request, person string) ([]benefits.Report, error) {
	if p.cfg.Benefits == nil {
		return nil, nil
	}
	return p.cfg.Benefits.Mine(r.Context(), person, Client)
}

// attachBenefits hangs each benefit on its right's status; those whose right the page
// does not show are returned apart.
func attachBenefits(reps []benefits.Report, day date.Date, list []Status) []BenefitView {
	var other []BenefitView
	for _, b := range reps {
		v := BenefitView{Right: b.Right, Benefit: b.Benefit, Institution: b.Institution, Reference: b.Reference, From: b.From.String(),
			Until: dateText(b.Until), Reported: b.Recorded.UTC().Format("2006-01-02 15:04 UTC"), Version: b.Version, Runs: b.Holds(day)}
		i := slices.IndexFunc(list, func(s Status) bool { return s.ID == RightPrefix+b.Right })
		if i < 0 {
			other = append(other, v)
			continue
		}
		list[i].Benefits = append(list[i].Benefits, v)
	}
	return other
}

// proBenefit takes a granting body's report from the professional page: the same
// service, checks and audit records as POST /benefits.
func (p *Portal) proBenefit(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	if ss.Pro == nil || p.cfg.Benefits == nil {
		http.Redirect(w, r, Prefix+"pro", http.StatusSeeOther)
		return nil
	}
	in, raw, bad := benefitForm(r.PostForm)
	by := exchange.Caller{ClientID: ss.Pro.ClientID, Institution: ss.Pro.Institution}
	var res benefits.Result
	var err error
	if bad == nil {
		res, err = p.cfg.Benefits.Submit(r.Context(), by, in, raw)
	} else if res.Audit, err = p.cfg.Benefits.Refused(r.Context(), by, in, raw, bad); err == nil {
		err = bad
	}
	if err != nil && res.Audit == 0 {
		return err // the audit log could not record it
	}
	if err == nil {
		p.render(w, r, ss, lang, "pro", p.proData(ss, map[string]any{"Reported": res}))
		return nil
	}
	status, field, msg := benefits.StatusOf(err), "", "error.unavailable"
	var fe *fault.Error
	if errors.As(err, &fe) {
		field, msg = fe.Field, fe.Msg
	}
	p.log.Info("portal: a benefit's report refused", "institution", by.Institution, "status", status, "field", field, "audit", res.Audit)
	w.WriteHeader(status)
	refused := map[string]any{"Status": status, "Field": field, "Message": msg}
	p.render(w, r, ss, lang, "pro", p.proData(ss, map[string]any{"Refused": refused}), true)
	return nil
}

// benefitForm reads the report form; raw is what the audit record hashes (the form as
// read, its CSRF token left out); bad, a date that is no date.
func benefitForm(f url.Values) (in benefits.Input, raw []byte, bad error) {
	in = benefits.Input{Action: f.Get("action"), Person: strings.TrimSpace(f.Get("person")), Right: f.Get("right"),
		Reference: f.Get("reference"), Benefit: f.Get("benefit")}
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
	raw = []byte(strings.Join([]string{in.Action, in.Person, in.Right, in.Reference, in.Benefit, f.Get("from"), f.Get("until")}, "\n"))
	return in, raw, bad
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
