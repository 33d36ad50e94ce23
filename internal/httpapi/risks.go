package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/oauth"
)

// Social-risk declarations (#18): an employer or its payroll office declares a risk
// (declaration.submit), the hub routes it to the institution the directory names
// competent, which lists what was routed to it and acknowledges it
// (declaration.receive); the declarer reads its status. Each call that touches a
// declaration is an exchange sealed in the audit log under service "employment",
// naming the worker, accepted or refused.

const maxRiskBody = 64 << 10

// declareRisk takes one social-risk declaration: 201 with it as recorded (its id, the
// competent institution, status submitted), or the refusal.
func (s *Server) declareRisk(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	c, err := s.bearer(r, oauth.ScopeDeclarationSubmit)
	if err != nil {
		return refused(c.ClientID, employmentService, nil, err)
	}
	if err := needContentType(r, "application/json"); err != nil {
		return err
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRiskBody))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return fault.TooLargef("body", "a social-risk declaration is at most %d bytes", maxRiskBody)
		}
		return fault.Invalidf("body", "cannot be read")
	}
	var d, asked employment.RiskDeclaration
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err = dec.Decode(&d); err != nil {
		err = fault.Invalidf("declaration", "%v", strings.TrimPrefix(err.Error(), "json: "))
	} else if d.ID != 0 || d.Institution != "" || d.Status != "" || d.DeclaredBy != "" || d.Event != 0 || !d.AckAt.IsZero() || d.AckRef != "" {
		err = fault.Invalidf("declaration", "id, institution, status, declared_by, event and acknowledged_* are set by the source")
	}
	asked = d
	if err == nil {
		d, err = s.employment.DeclareRisk(r.Context(), c.Institution, d)
	}
	status := http.StatusCreated
	ans := exchange.Answer{Status: status, Decision: exchange.Decision{Permit: true, Reasons: []string{"declared for the employer, routed to " + d.Institution}}}
	var body []byte
	if err != nil {
		status = statusOf[fault.KindOf(err)]
		ans = exchange.Answer{Status: status, Err: err, Decision: exchange.Decision{Reasons: []string{dci.SafeMessage(err)}, Code: "declaration." + strings.ToLower(fault.KindOf(err).String())}}
		body = problemFor(r, status, err).bytes()
	} else {
		body, _ = json.Marshal(d)
	}
	if ident.ValidPerson(asked.Person) { // a refused attempt still names the worker, for the worker to find
		ans.Persons = []string{asked.Person}
	}
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: c.ClientID, Institution: c.Institution}, Service: employmentService,
		Purpose: "declaration.risk." + asked.Phase, Request: raw, Start: start}
	if !slices.Contains(riskPhases, asked.Phase) {
		ask.Purpose = "declaration.risk"
	}
	return s.sealAndWrite(w, r, ask, ans, status, body, err != nil)
}

var riskPhases = []string{employment.RiskStart, employment.RiskRecurrence, employment.RiskContinuation, employment.RiskEnd}

// sealAndWrite seals the exchange, then answers: nothing leaves before the record.
func (s *Server) sealAndWrite(w http.ResponseWriter, r *http.Request, ask exchange.Ask, ans exchange.Answer, status int, body []byte, problem bool) error {
	seq, err := s.exchange.Seal(r.Context(), ask, ans, body)
	if err != nil {
		return err
	}
	w.Header().Set("X-Audit-Records", strconv.FormatInt(seq, 10))
	if problem {
		writeProblem(w, status, body)
		return nil
	}
	writeRaw(w, status, body)
	return nil
}

// riskStatus answers one declaration to its declarer (the employer or a payroll office
// it mandates) or to the competent institution; to anyone else 404, recorded.
func (s *Server) riskStatus(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	c, err := s.bearer(r, oauth.ScopeDeclarationSubmit, oauth.ScopeDeclarationReceive)
	if err != nil {
		return refused(c.ClientID, employmentService, nil, err)
	}
	return s.riskCall(w, r, c, start, "declaration.risk.status", func(id int64) (employment.RiskDeclaration, error) {
		return s.employment.RiskOf(r.Context(), c.Institution, id)
	})
}

// ackRisk records the competent institution's acknowledgement ({"reference": "…"},
// optional): 200 with the declaration, 404 for one not routed to the caller, 409 when
// acknowledged already.
func (s *Server) ackRisk(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	c, err := s.bearer(r, oauth.ScopeDeclarationReceive)
	if err != nil {
		return refused(c.ClientID, employmentService, nil, err)
	}
	var in struct {
		Reference string `json:"reference"`
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4096))
	if err != nil {
		return fault.TooLargef("body", "an acknowledgement is at most 4096 bytes")
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return fault.Invalidf("body", "an acknowledgement is {\"reference\": \"…\"}: %v", strings.TrimPrefix(err.Error(), "json: "))
		}
	}
	return s.riskCall(w, r, c, start, "declaration.risk.ack", func(id int64) (employment.RiskDeclaration, error) {
		return s.employment.Ack(r.Context(), c.Institution, id, in.Reference)
	})
}

// riskCall reads the path's id, runs do and seals the exchange, naming the worker when
// the declaration was found for the caller.
func (s *Server) riskCall(w http.ResponseWriter, r *http.Request, c oauth.Claims, start time.Time, purpose string, do func(int64) (employment.RiskDeclaration, error)) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var d employment.RiskDeclaration
	if err != nil || id <= 0 {
		err = fault.NotFoundf("no social-risk declaration %q", r.PathValue("id"))
	} else {
		d, err = do(id)
	}
	status := http.StatusOK
	ans := exchange.Answer{Status: status, Decision: exchange.Decision{Permit: true, Reasons: []string{"social-risk declaration " + r.PathValue("id")}}}
	var body []byte
	if err != nil {
		status = statusOf[fault.KindOf(err)]
		ans = exchange.Answer{Status: status, Err: err, Decision: exchange.Decision{Reasons: []string{dci.SafeMessage(err)}, Code: "declaration." + strings.ToLower(fault.KindOf(err).String())}}
		body = problemFor(r, status, err).bytes()
	} else {
		body, _ = json.Marshal(d)
		ans.Persons = []string{d.Person}
	}
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: c.ClientID, Institution: c.Institution}, Service: employmentService,
		Purpose: purpose, Request: []byte(r.Method + " " + r.URL.Path), Start: start}
	return s.sealAndWrite(w, r, ask, ans, status, body, err != nil)
}

// riskInbox lists the declarations routed to the caller (?status=submitted|acknowledged,
// ?after=id, ?limit=1..1000, default 100), each sealed as one exchange naming their
// workers.
func (s *Server) riskInbox(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	c, err := s.bearer(r, oauth.ScopeDeclarationReceive)
	if err != nil {
		return refused(c.ClientID, employmentService, nil, err)
	}
	q := r.URL.Query()
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	limit := 100
	if l := q.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil {
			return fault.Invalidf("limit", "%q is not a number", l)
		}
	}
	list, err := s.employment.Inbox(r.Context(), c.Institution, q.Get("status"), after, limit)
	if err != nil {
		return err
	}
	var persons []string
	for _, d := range list {
		persons = append(persons, d.Person)
	}
	body, _ := json.Marshal(map[string]any{"declarations": list})
	ans := exchange.Answer{Status: http.StatusOK, Persons: persons, Decision: exchange.Decision{Permit: true, Reasons: []string{"social-risk declarations routed to " + c.Institution}}}
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: c.ClientID, Institution: c.Institution}, Service: employmentService,
		Purpose: "declaration.risk.inbox", Request: []byte(r.Method + " " + r.URL.RequestURI()), Start: start}
	return s.sealAndWrite(w, r, ask, ans, http.StatusOK, body, false)
}
