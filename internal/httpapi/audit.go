package httpapi

import (
	"net/http"
	"strconv"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// auditCheckpoint publishes the latest signed checkpoint of the audit log and the key
// that verifies it: anyone may hold the hub to it later.
func (s *Server) auditCheckpoint(w http.ResponseWriter, r *http.Request) error {
	cp, err := s.audit.Checkpoint(r.Context())
	if err != nil {
		return err
	}
	key, err := s.auditKey()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"checkpoint": cp, "verifier_key": key, "log_size": s.audit.Size()})
	return nil
}

// auditEvidence gives one record with its inclusion proof and the signed checkpoint, a
// file that `crossroads audit verify-evidence` checks offline. Records name persons, so
// this is for administrators.
func (s *Server) auditEvidence(w http.ResponseWriter, r *http.Request, _ string) error {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		return fault.Invalidf("seq", "must be a record number from 1")
	}
	ev, err := s.audit.Evidence(r.Context(), seq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ev)
	return nil
}

// personExchanges lists every exchange that concerned a person, newest last, from the
// log's person index: "who consulted my data".
func (s *Server) personExchanges(w http.ResponseWriter, r *http.Request, _ string) error {
	p, err := ident.ParsePerson(r.PathValue("person"))
	if err != nil {
		return fault.Invalidf("person", "is not a person number")
	}
	q := r.URL.Query()
	var after int64
	if a := q.Get("after"); a != "" {
		if after, err = strconv.ParseInt(a, 10, 64); err != nil || after < 0 {
			return fault.Invalidf("after", "must be a record number")
		}
	}
	limit, err := limitParam(q.Get("limit"))
	if err != nil {
		return err
	}
	recs, err := s.audit.ByPerson(r.Context(), p.String(), after, limit)
	if err != nil {
		return err
	}
	page := struct {
		Items []audit.Record `json:"items"`
		Next  string         `json:"next,omitempty"`
	}{Items: recs}
	if page.Items == nil {
		page.Items = []audit.Record{}
	}
	if len(recs) == limit {
		page.Next = strconv.FormatInt(recs[len(recs)-1].Seq, 10)
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}
