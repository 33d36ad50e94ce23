package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
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

// The employer channel (#18): immediate declarations and quarterly files, from an
// application holding declaration.submit; whom it may declare for is the directory's
// mandates (employment.Source.Mandates). Every declaration is an exchange sealed in the
// audit log under service "employment", naming the worker, accepted or refused.
const (
	maxDeclarationsBody = 1 << 20 // bytes of a batch of immediate declarations
	maxQuarterBody      = 1 << 30 // bytes of a quarterly file: 4.5 M lines of 170 bytes fit
	employmentService   = "employment"
)

// DeclarationResult is the outcome of one immediate declaration.
type DeclarationResult struct {
	Index       int                     `json:"index"`
	Status      int                     `json:"status"` // 201 recorded, else the refusal's
	Declaration *employment.Declaration `json:"declaration,omitempty"`
	Error       string                  `json:"error,omitempty"`
	Audit       int64                   `json:"audit"` // the exchange's audit record
}

// declare takes one declaration (an object) or a batch ({"declarations": […]}, at most
// employment.MaxBatch), each checked, recorded and sealed on its own. One declaration
// is answered with its own status; a batch with 200 and a result per declaration.
func (s *Server) declare(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	claims, err := s.bearer(r, oauth.ScopeDeclarationSubmit)
	if err != nil {
		return refused(claims.ClientID, employmentService, nil, err)
	}
	if err := needContentType(r, "application/json"); err != nil {
		return err
	}
	items, batch, err := decodeDeclarations(http.MaxBytesReader(w, r.Body, maxDeclarationsBody))
	if err != nil {
		return err
	}
	// Their audit records are coming: the audit writer waits for those of the
	// declarations under way and commits them together.
	defer s.exchange.Expect(len(items))()
	results := make([]DeclarationResult, len(items))
	for i, raw := range items {
		res, err := s.declareOne(r, claims, raw, start)
		if err != nil { // the audit log refused: nothing more is accepted
			return err
		}
		res.Index = i
		results[i] = res
	}
	if !batch {
		w.Header().Set("X-Audit-Records", strconv.FormatInt(results[0].Audit, 10))
		writeJSON(w, results[0].Status, results[0])
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
	return nil
}

// decodeDeclarations splits the body into its declarations, undecoded.
func decodeDeclarations(body io.Reader) (items []json.RawMessage, batch bool, err error) {
	data, err := io.ReadAll(body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, false, fault.Invalidf("body", "is larger than %d bytes", maxDeclarationsBody)
		}
		return nil, false, fault.Invalidf("body", "cannot be read")
	}
	var probe struct {
		Declarations []json.RawMessage `json:"declarations"`
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, false, fault.Invalidf("body", "is a declaration (a JSON object) or {\"declarations\": [...]}")
	}
	if !bytes.Contains(trimmed, []byte(`"declarations"`)) {
		return []json.RawMessage{trimmed}, false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&probe); err != nil {
		return nil, false, fault.Invalidf("body", "a batch is {\"declarations\": [...]}: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	if len(probe.Declarations) == 0 || len(probe.Declarations) > employment.MaxBatch {
		return nil, false, fault.Invalidf("declarations", "from 1 to %d declarations, not %d", employment.MaxBatch, len(probe.Declarations))
	}
	return probe.Declarations, true, nil
}

// declareOne decodes, records and seals one declaration; the error is the audit log's.
func (s *Server) declareOne(r *http.Request, c oauth.Claims, raw json.RawMessage, start time.Time) (DeclarationResult, error) {
	var d, asked employment.Declaration
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(&d)
	asked = d
	if err != nil {
		err = fault.Invalidf("declaration", "%v", strings.TrimPrefix(err.Error(), "json: "))
	} else if d.ID != 0 || d.DeclaredBy != "" || !d.Received.IsZero() || d.Late || d.Event != 0 {
		err = fault.Invalidf("declaration", "id, declared_by, received, late and event are set by the source")
	} else {
		if d, err = s.employment.Declare(r.Context(), c.Institution, d); err != nil && ident.ValidPerson(asked.Person) {
			d.Person = asked.Person // a refused attempt still names the worker, for the worker to find
		}
	}
	res := DeclarationResult{Status: http.StatusCreated}
	ans := exchange.Answer{Status: http.StatusCreated, Decision: exchange.Decision{Permit: true, Reasons: []string{"declared for the employer"}}}
	if err != nil {
		res = DeclarationResult{Status: statusOf[fault.KindOf(err)], Error: dci.SafeMessage(err)}
		ans = exchange.Answer{Status: res.Status, Err: err, Decision: exchange.Decision{Reasons: []string{res.Error}, Code: "declaration." + strings.ToLower(fault.KindOf(err).String())}}
		if fault.KindOf(err) == fault.Internal || fault.KindOf(err) == fault.Unavailable {
			s.log.Error("declaration failed", "request_id", requestID(r.Context()), "err", err.Error())
		}
	} else {
		res.Declaration = &d
	}
	if d.Person != "" {
		ans.Persons = []string{d.Person}
	}
	body, _ := json.Marshal(res)
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: c.ClientID, Institution: c.Institution}, Service: employmentService,
		Purpose: "declaration." + asked.Kind, Request: raw, Start: start}
	seq, err := s.exchange.Seal(r.Context(), ask, ans, body)
	if err != nil {
		return DeclarationResult{}, err
	}
	res.Audit = seq
	return res, nil
}

// declareQuarter takes a quarterly file (?format=jsonl or csv) and answers its report:
// 201 when stored, 200 when the same bytes were stored before (their first report), 422
// with the report when no line was accepted (the first time or again).
func (s *Server) declareQuarter(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	claims, err := s.bearer(r, oauth.ScopeDeclarationSubmit)
	if err != nil {
		return refused(claims.ClientID, employmentService, []byte{}, err)
	}
	file, sum, err := spool(http.MaxBytesReader(w, r.Body, maxQuarterBody))
	if err != nil {
		return refused(claims.ClientID, employmentService, []byte{}, err)
	}
	defer file.Close()
	f, again, err := s.employment.Ingest(r.Context(), employment.Import{File: file, Hash: hex.EncodeToString(sum[:]), Format: r.URL.Query().Get("format"),
		By: claims.Institution, May: func(employer string) error { return s.employment.Mandates(r.Context(), claims.Institution, employer) }})
	status := http.StatusCreated
	switch {
	case err == nil && f.Accepted == 0:
		// Nothing was accepted: not a success, whatever the file's size. The report
		// says why, line by line (a file sent again answers the same).
		status = http.StatusUnprocessableEntity
	case again:
		status = http.StatusOK
	}
	// The file's records name its workers (several records for a big file): each finds
	// the declaration of their wages by their number.
	ans := exchange.Answer{Status: status, Persons: f.Persons, Decision: exchange.Decision{Permit: true, Reasons: []string{"quarterly file " + f.Hash}}}
	var body []byte
	if err != nil {
		status = statusOf[fault.KindOf(err)]
		ans = exchange.Answer{Status: status, Err: err, Decision: exchange.Decision{Reasons: []string{dci.SafeMessage(err)}, Code: "declaration.file"}}
		body = problemFor(r, status, err).bytes()
	} else {
		body, _ = json.Marshal(f)
	}
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: claims.ClientID, Institution: claims.Institution}, Service: employmentService,
		Purpose: "declaration.quarter", RequestSum: sum, Start: start}
	seq, serr := s.exchange.Seal(r.Context(), ask, ans, body)
	if serr != nil {
		return serr
	}
	w.Header().Set("X-Audit-Records", strconv.FormatInt(seq, 10))
	if err != nil {
		writeProblem(w, status, body)
		return nil
	}
	writeRaw(w, status, body)
	return nil
}

// spool copies a quarterly file's body to a temporary file, hashing it on the way: a file
// of millions of lines is never held in memory, and it is read from the disk at the
// disk's pace, not the client's, while the store's writer is held. The file is the
// hub user's only (0600, os.CreateTemp in TMPDIR) and removed when closed. A body over
// maxQuarterBody is refused with 413.
func spool(body io.Reader) (*tempFile, [32]byte, error) {
	f, err := os.CreateTemp("", "crossroads-quarter-*")
	if err != nil {
		return nil, [32]byte{}, fault.Unavailablef(err, "no room to receive the file")
	}
	t := &tempFile{File: f}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), body); err != nil {
		t.Close()
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, [32]byte{}, fault.TooLargef("body", "a quarterly file is at most %d bytes; split it by employer", mb.Limit)
		}
		return nil, [32]byte{}, fault.Invalidf("body", "cannot be read: %v", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Close()
		return nil, [32]byte{}, fault.Wrap(err, "read the received file")
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return t, sum, nil
}

// tempFile is a spooled body, removed when closed.
type tempFile struct{ *os.File }

func (t *tempFile) Close() error {
	err := t.File.Close()
	os.Remove(t.Name())
	return err
}
