package httpapi

import (
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// auditCheckpoint publishes the latest signed checkpoint of the audit log, the key that
// signs now, and the key history (verifier_keys: each key with the sizes of the
// checkpoints it signed, so that evidence signed before a rotation stays verifiable):
// anyone may hold the hub to it later.
func (s *Server) auditCheckpoint(w http.ResponseWriter, r *http.Request) error {
	cp, err := s.audit.Checkpoint(r.Context())
	if err != nil {
		return err
	}
	key, err := s.auditKey()
	if err != nil {
		return err
	}
	cosigned, err := s.audit.Cosignatures(r.Context())
	if err != nil {
		return err
	}
	out := map[string]any{"checkpoint": cp, "verifier_key": key, "log_size": s.audit.Size(), "cosigned": cosigned}
	if s.auditKeys != nil {
		keys, err := s.auditKeys()
		if err != nil {
			return err
		}
		out["verifier_keys"] = keys
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// auditCosignature takes a checkpoint cosigned by a witness the hub expects (its
// signature is the credential; anyone else's is refused) and serves it with the
// checkpoint from then on.
func (s *Server) auditCosignature(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<10))
	if err != nil {
		return fault.Invalidf("body", "a cosigned checkpoint note of at most 16 KiB")
	}
	c, err := s.audit.AddCosignature(r.Context(), string(body))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// auditEvidence gives one record with its inclusion proof and the signed checkpoint, a
// file that `crossroads audit verify-evidence` checks offline. Records name persons: an
// administrator may have any record's evidence, an institution (with an access token
// of one of its applications) the evidence of its own exchanges only; asking for
// another's is refused and recorded in the audit log.
func (s *Server) auditEvidence(w http.ResponseWriter, r *http.Request) error {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		return fault.Invalidf("seq", "must be a record number from 1")
	}
	token, ok := bearerToken(r)
	if !ok {
		return fault.Unauthorizedf("send an administrator token or an access token of the institution that made the exchange as 'Authorization: Bearer <token>'")
	}
	var ev audit.Evidence
	if _, aerr := s.dir.Admin(r.Context(), token); aerr == nil {
		ev, err = s.audit.Evidence(r.Context(), seq)
	} else {
		claims, verr := s.oauth.Verify(r.Context(), token)
		if verr != nil {
			return fault.Unauthorizedf("the token is neither an administrator token nor a valid access token")
		}
		ev, err = s.audit.EvidenceFor(r.Context(), seq, claims.Institution)
		if fault.KindOf(err) == fault.Forbidden {
			return s.refuseEvidence(w, r, exchange.Caller{ClientID: claims.ClientID, Institution: claims.Institution}, seq, err)
		}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ev)
	return nil
}

// refuseEvidence records an institution's request for the evidence of another's
// exchange in the audit log, like every refusal, and answers it 403.
func (s *Server) refuseEvidence(w http.ResponseWriter, r *http.Request, caller exchange.Caller, seq int64, err error) error {
	ask := exchange.Ask{Caller: caller, Service: "audit:evidence", Request: []byte(r.URL.Path)}
	ans := exchange.Answer{Err: err, Status: http.StatusForbidden, Decision: exchange.Decision{Code: fault.Forbidden.String(),
		Reasons: []string{fmt.Sprintf("the evidence of record %d is refused: it is another institution's exchange", seq)}}}
	body := problemFor(r, http.StatusForbidden, err).bytes()
	rec, serr := s.exchange.Seal(r.Context(), ask, ans, body)
	if serr != nil {
		return serr
	}
	w.Header().Set("X-Audit-Records", strconv.FormatInt(rec, 10))
	writeProblem(w, http.StatusForbidden, body)
	return nil
}

// auditConsistency proves that the log's tree at size `to` (by default the latest
// checkpoint) extends its tree at size `from`: hashes only, for anyone holding an
// earlier checkpoint (`crossroads audit verify-consistency`). Both sizes are bounded by
// the log's size, and the proof holds at most two hashes per level of the tree.
func (s *Server) auditConsistency(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	from, err := sizeParam("from", q.Get("from"), true)
	if err != nil {
		return err
	}
	to, err := sizeParam("to", q.Get("to"), false)
	if err != nil {
		return err
	}
	c, err := s.audit.Consistency(r.Context(), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// sizeParam parses a tree size: digits only, from 1; absent is 0 unless required.
func sizeParam(name, v string, required bool) (int64, error) {
	if v == "" && !required {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || strconv.FormatInt(n, 10) != v {
		return 0, fault.Invalidf(name, "must be a tree size, a whole number from 1")
	}
	return n, nil
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
