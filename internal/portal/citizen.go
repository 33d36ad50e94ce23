package portal

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/benefits"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/exchange"
)

// home is the login page, or the citizen's statuses of today once logged in.
func (p *Portal) home(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	if ss.Person != "" {
		return p.statusPage(w, r, ss, lang)
	}
	p.render(w, r, ss, lang, "home", map[string]any{"Sent": ss.OTP != nil})
	return nil
}

func (p *Portal) logout(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	if c, err := r.Cookie(p.cookieName()); err == nil {
		p.sessions.drop(c.Value)
	}
	p.clearCookie(w)
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
	return nil
}

// statusPage shows the statuses on today or the day asked (?date=YYYY-MM-DD: a date is
// no personal data; the person is the session's). Any other parameter but the language
// switch is refused, so that a day asked otherwise (?on=) is not answered with today.
func (p *Portal) statusPage(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	today := p.today()
	day := today
	q := r.URL.Query()
	for k, vs := range q {
		if k != "date" && k != "lang" || len(vs) > 1 { // ?date=A&date=B: which day was meant?
			return pageErr(http.StatusBadRequest, "error.params", errors.New("a query parameter the statuses page does not take"))
		}
	}
	if s := q.Get("date"); s != "" {
		d, err := date.Parse(s)
		if err != nil || d > today || d < date.Of(1900, 1, 1) {
			return pageErr(http.StatusBadRequest, "error.date", err)
		}
		day = d
	}
	// The benefits reported are read beside the statuses: each read waits for its
	// audit record.
	var reps []benefits.Report
	var berr error
	done := make(chan struct{})
	go func() { defer close(done); reps, berr = p.mine(r, ss.Person) }()
	list, err := p.statuses.Statuses(r.Context(), ss.Person, day)
	<-done
	if err != nil {
		return err
	}
	if berr != nil {
		return berr
	}
	other := attachBenefits(reps, day, list)
	p.render(w, r, ss, lang, "statuses", map[string]any{"Day": day.String(), "Today": today.String(), "Statuses": list, "Other": other})
	return nil
}

// sourceView is one source's records, flattened for a table.
type sourceView struct {
	Name  string
	Page  string   // the page that shows this source's data (not read here)
	Rows  [][]Fact // one list of fields per record
	Error bool
	// Declarations are what employers and payroll offices declared about the person
	// (hires, exits, social risks), each with its declarant, from the record's
	// "declarations": shown as such, not flattened.
	Declarations []declarationView
}

// declarationView is one declaration about the citizen.
type declarationView struct {
	Kind, Day, Employer, DeclaredBy, Received, Institution string
	Late                                                   bool
}

// declarationsOf takes the "declarations" out of a record.
func declarationsOf(rec map[string]any) []declarationView {
	list, ok := rec["declarations"].([]any)
	if !ok {
		return nil
	}
	delete(rec, "declarations")
	text := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	out := make([]declarationView, 0, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		late, _ := m["late"].(bool)
		out = append(out, declarationView{Kind: text(m, "kind"), Day: text(m, "day"), Employer: text(m, "employer"),
			DeclaredBy: text(m, "declared_by"), Received: text(m, "received"), Institution: text(m, "institution"), Late: late})
	}
	return out
}

func (p *Portal) dataPage(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	out := make([]sourceView, len(p.cfg.Sources))
	var wg sync.WaitGroup
	for i, src := range p.cfg.Sources {
		wg.Add(1)
		go func() { // each source at once: each read waits for its audit record
			defer wg.Done()
			v := sourceView{Name: src.Name, Page: src.Page}
			if src.Page != "" {
				out[i] = v
				return
			}
			recs, err := p.fetchRecords(r.Context(), ss.Person, src.Service, p.today())
			if err != nil {
				p.log.Warn("portal: a source could not answer", "service", src.Service, "err", err)
				v.Error = true
			}
			for _, rec := range recs {
				v.Declarations = append(v.Declarations, declarationsOf(rec)...)
				v.Rows = append(v.Rows, flatten("", rec, nil))
			}
			out[i] = v
		}()
	}
	wg.Wait()
	p.render(w, r, ss, lang, "data", out)
	return nil
}

// flatten lists a record's fields, nested ones by dotted name, sorted.
func flatten(prefix string, v any, out []Fact) []Fact {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			if !strings.HasPrefix(k, "@") {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			out = flatten(name, x[k], out)
		}
	case []any:
		if len(x) == 0 {
			out = append(out, Fact{Name: prefix, Value: "—"})
		}
		for i, e := range x {
			out = flatten(prefix+"["+strconv.Itoa(i+1)+"]", e, out)
		}
	case nil:
	default:
		out = append(out, Fact{Name: prefix, Value: fmt.Sprint(x)})
	}
	return out
}

// maxConsultations is how many records "who consulted my data" shows, newest first.
const maxConsultations = 500

// consultation is one audit record shown to its person.
type consultation struct {
	Seq                      int64
	When, Institution        string
	Self                     bool
	Service, Purpose, Fields string
	Permit                   bool
	Outcome                  string
	// Shared: the record names other persons too (a batch read, the rights engine's
	// national run, a payment programme's reconciliation): its evidence would show
	// them, so it is not offered, and its outcome, which counts them all, is not shown.
	Shared bool
}

func (p *Portal) consultations(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	recs, err := p.byPerson(r, ss.Person)
	if err != nil {
		return err
	}
	out := make([]consultation, 0, len(recs))
	for _, rec := range slices.Backward(recs) {
		c := consultation{Seq: rec.Seq, When: rec.Time.UTC().Format("2006-01-02 15:04:05 UTC"), Institution: rec.Institution,
			Self: rec.Institution == exchange.SelfInstitution, Service: rec.Service, Purpose: rec.Purpose,
			Fields: strings.Join(rec.Fields, ", "), Permit: rec.Decision == audit.Permit, Outcome: rec.Outcome, Shared: len(rec.Persons) > 1}
		if c.Shared { // its outcome counts them all ("paid 2 … missing 22"): not one citizen's to read
			c.Outcome = ""
		}
		out = append(out, c)
	}
	p.render(w, r, ss, lang, "consultations", out)
	return nil
}

// byPerson reads the person's records, the latest maxConsultations.
func (p *Portal) byPerson(r *http.Request, person string) ([]audit.Record, error) {
	var all []audit.Record
	after := int64(0)
	for {
		recs, err := p.cfg.Audit.ByPerson(r.Context(), person, after, 1000)
		if err != nil {
			return nil, err
		}
		all = append(all, recs...)
		if len(all) > maxConsultations {
			all = all[len(all)-maxConsultations:]
		}
		if len(recs) < 1000 {
			return all, nil
		}
		after = recs[len(recs)-1].Seq
	}
}

// evidence downloads the inclusion proof of one record about the citizen, in the form
// `crossroads audit verify-evidence` checks. A record about anyone else is not found,
// whatever its number: the answer does not tell it exists.
func (p *Portal) evidence(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		return pageErr(http.StatusNotFound, "error.notfound", err)
	}
	ev, err := p.cfg.Audit.Evidence(r.Context(), seq)
	if err != nil {
		return pageErr(http.StatusNotFound, "error.notfound", err)
	}
	var rec audit.Record
	// A record naming other persons too (a batch) is refused like one about someone
	// else: its bytes, which the proof covers, would show their numbers.
	if err := json.Unmarshal(ev.Record, &rec); err != nil || !slices.Equal(rec.Persons, []string{ss.Person}) {
		p.log.Warn("portal: evidence of a record about someone else refused", "seq", seq)
		return pageErr(http.StatusNotFound, "error.notfound", nil)
	}
	b, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"evidence-%d.json\"", seq))
	w.Write(b)
	return nil
}
