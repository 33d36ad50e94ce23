package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/civil"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// An uploaded integration file is bounded, so that its parsing and report fit in a few
// tens of megabytes: larger files are split, or integrated with the command line
// (crossroads directory integrate FILE), which reads them where they are.
const (
	maxIntegrateBody  = 8 << 20
	maxIntegrateLines = 50_000
)

// integrate applies a batch of person-directory lines: a CSV file (text/csv) or JSON
// {"lines":[…]}. ?mode=atomic (default) keeps all or none; ?mode=partial keeps the good
// lines. The report lists the lines not applied (?report=all lists every line).
func (s *Server) integrate(w http.ResponseWriter, r *http.Request, actor string) error {
	mode, err := batchMode(r.URL.Query().Get("mode"))
	if err != nil {
		return err
	}
	if err := needContentType(r, "text/csv", "application/json"); err != nil {
		return err
	}
	body := http.MaxBytesReader(w, r.Body, maxIntegrateBody)
	var pb directory.ParsedBatch
	if r.Header.Get("Content-Type") == "application/json" {
		var in struct {
			Lines []directory.Line `json:"lines"`
		}
		dec := json.NewDecoder(body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return jsonFault(err)
		}
		if len(in.Lines) > maxIntegrateLines {
			return fault.Invalidf("lines", "more than %d lines; split the batch", maxIntegrateLines)
		}
		pb.Lines = in.Lines
		for i := range in.Lines {
			pb.FileLine = append(pb.FileLine, i+1)
		}
	} else if pb, err = directory.ParseBatch(sizedBody{body}, maxIntegrateLines); err != nil {
		return err
	}
	rep, err := s.dir.IntegrateFile(r.Context(), actor, pb, mode)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("report") != "all" {
		rep.Lines = notApplied(rep.Lines)
	}
	status := http.StatusOK
	if rep.Applied == 0 && rep.Rejected > 0 {
		status = http.StatusUnprocessableEntity
	}
	writeJSON(w, status, rep)
	return nil
}

// sizedBody names the limit when a body is larger than its http.MaxBytesReader allows.
type sizedBody struct{ r io.Reader }

func (b sizedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		err = fault.TooLargef("body", "is larger than %d bytes; split the file", mb.Limit)
	}
	return n, err
}

func batchMode(v string) (directory.BatchMode, error) {
	switch v {
	case "", "atomic":
		return directory.Atomic, nil
	case "partial":
		return directory.Partial, nil
	}
	return 0, fault.Invalidf("mode", "must be atomic or partial")
}

func notApplied(ls []directory.LineResult) []directory.LineResult {
	out := []directory.LineResult{}
	for _, l := range ls {
		if l.Status != directory.LineApplied {
			out = append(out, l)
		}
	}
	return out
}

// personFiles answers which institutions have a file on a person, in which capacities,
// on a day (?day=YYYY-MM-DD, today by default).
func (s *Server) personFiles(w http.ResponseWriter, r *http.Request, _ string) error {
	day, err := date.Parse(r.URL.Query().Get("day"))
	if err != nil {
		return fault.Invalidf("day", "%v", err)
	}
	files, err := s.dir.Files(r.Context(), r.PathValue("person"), day)
	if err != nil {
		return err
	}
	if files == nil {
		files = []directory.Integration{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"person": r.PathValue("person"), "files": files})
	return nil
}

func (s *Server) listIntegrations(w http.ResponseWriter, r *http.Request, _ string) error {
	p := r.URL.Query()
	q := directory.IntegrationQuery{Person: p.Get("person"), Institution: p.Get("institution"),
		Capacity: p.Get("capacity"), After: p.Get("after")}
	var err error
	if q.Day, err = date.Parse(p.Get("day")); err != nil {
		return fault.Invalidf("day", "%v", err)
	}
	if q.Limit, err = limitParam(p.Get("limit")); err != nil {
		return err
	}
	items, err := s.dir.Store().Integrations(r.Context(), q)
	if err != nil {
		return err
	}
	page := directory.Page[directory.Integration]{Items: items}
	if items == nil {
		page.Items = []directory.Integration{}
	}
	if len(items) == q.Limit {
		page.Next = items[len(items)-1].Cursor()
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func limitParam(v string) (int, error) {
	if v == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, fault.Invalidf("limit", "must be a number from 1 to 1000")
	}
	return n, nil
}

// history lists changes; hashes of secrets are never shown.
func (s *Server) history(w http.ResponseWriter, r *http.Request, _ string) error {
	p := r.URL.Query()
	q := directory.HistoryQuery{Kind: directory.Kind(p.Get("kind")), Key: p.Get("key")}
	var err error
	if a := p.Get("after"); a != "" {
		if q.After, err = strconv.ParseInt(a, 10, 64); err != nil || q.After < 0 {
			return fault.Invalidf("after", "must be a sequence number")
		}
	}
	if q.Limit, err = limitParam(p.Get("limit")); err != nil {
		return err
	}
	changes, err := s.dir.History(r.Context(), q)
	if err != nil {
		return err
	}
	page := directory.Page[directory.Change]{Items: append([]directory.Change{}, changes...)}
	if len(changes) == q.Limit {
		page.Next = strconv.FormatInt(changes[len(changes)-1].Seq, 10)
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// nation summarises the built-in civil register.
func (s *Server) nation(w http.ResponseWriter, r *http.Request, _ string) error {
	persons, deceased, err := s.pop.Count(r.Context())
	if err != nil {
		return err
	}
	places, err := s.pop.Places(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"persons": persons, "deceased": deceased, "places": len(places)})
	return nil
}

// recordCivilChange serves POST /admin/civil/events: an officer of the civil register
// declares a death, a change of address or of household (civil.Change). It is recorded with its event,
// which the hub's events pipeline carries to the institutions with a file on the person.
func (s *Server) recordCivilChange(w http.ResponseWriter, r *http.Request, actor string) error {
	var c civil.Change
	if err := decode(w, r, &c); err != nil {
		return err
	}
	ev, err := civil.RecordChange(r.Context(), s.pop, c, s.dir.Today())
	if err != nil {
		return err
	}
	s.log.Info("civil change recorded", "actor", actor, "type", ev.Type, "seq", ev.Seq)
	writeJSON(w, http.StatusCreated, ev)
	return nil
}

// recordBirth serves POST /admin/civil/births: an officer of the civil register
// declares a birth (civil.Birth); the register issues the child's number, and the event
// reaches the institutions with a file on a parent.
func (s *Server) recordBirth(w http.ResponseWriter, r *http.Request, actor string) error {
	var b civil.Birth
	if err := decode(w, r, &b); err != nil {
		return err
	}
	if s.ledger == nil {
		return fault.NotFoundf("this hub has no built-in civil register")
	}
	ev, err := civil.RecordBirth(r.Context(), s.pop, s.ledger, b, s.dir.Today())
	if err != nil {
		return err
	}
	s.log.Info("birth recorded", "actor", actor, "seq", ev.Seq)
	writeJSON(w, http.StatusCreated, ev)
	return nil
}

// recordRegistryChange serves POST /admin/registries/{registry}/events: a change declared
// to a built-in derived registry (derived.Change: a hire or its end, an income, a
// disability assessment, an enrolment or its end). Like the civil register's, it is
// recorded with its event and reaches the institutions with a file on the person.
func (s *Server) recordRegistryChange(w http.ResponseWriter, r *http.Request, actor string) error {
	name := r.PathValue("registry")
	src, ok := s.builtins[name].(*derived.Source)
	if !ok {
		return fault.NotFoundf("no built-in registry %q takes changes here: use %s", name, strings.Join(derived.Kinds, ", "))
	}
	var c derived.Change
	if err := decode(w, r, &c); err != nil {
		return err
	}
	ev, err := src.RecordChange(r.Context(), c, s.dir.Today())
	if err != nil {
		return err
	}
	s.log.Info("registry change recorded", "actor", actor, "registry", name, "type", ev.Type, "seq", ev.Seq)
	writeJSON(w, http.StatusCreated, ev)
	return nil
}
