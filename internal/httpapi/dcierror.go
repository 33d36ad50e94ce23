package httpapi

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// dciHandler is a DCI handler: it writes its answer, or returns its error for dciAdapt to
// answer. The error's kind gives the status (statusOf) and the DCI code (dci.CodeOf); two
// marks say which shape the answer takes besides the problem every error gets:
//   - refused(…): a refusal before the caller was trusted (token, signature, a source's
//     rights), recorded in the audit log before it is answered;
//   - acked(…): a refusal of an asynchronous call's message, answered ACK ERR under the
//     call's correlation id;
//   - anything else: the problem with the DCI errors array.
type dciHandler func(w http.ResponseWriter, r *http.Request) error

// refusal is an error to record in the audit log before it is answered.
type refusal struct {
	err     error
	client  string // the client id the token claimed, "" when none
	service string // what it asked for ("dci:crvs", "batch")
	body    []byte // the request as read; nil when it was not read yet
}

func (e *refusal) Error() string { return e.err.Error() }
func (e *refusal) Unwrap() error { return e.err }

// refused marks err as a refusal of client's request for service, to be recorded.
func refused(client, service string, body []byte, err error) error {
	return &refusal{err: err, client: client, service: service, body: body}
}

// ackError is an asynchronous call's refusal, answered ACK ERR under corr.
type ackError struct {
	err  error
	corr string
}

func (e *ackError) Error() string { return e.err.Error() }
func (e *ackError) Unwrap() error { return e.err }

// acked marks err as the refusal of an asynchronous call whose correlation id is corr.
func acked(corr string, err error) error {
	if err == nil {
		return nil
	}
	return &ackError{err: err, corr: corr}
}

// dciAdapt answers the error of a DCI handler, the one place that does.
func (s *Server) dciAdapt(h dciHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.answerDCI(w, r, err)
		}
	}
}

// answerDCI answers err as its marks say (see dciHandler); internal and unavailable
// errors are logged, with their causes.
func (s *Server) answerDCI(w http.ResponseWriter, r *http.Request, err error) {
	var rf *refusal
	if errors.As(err, &rf) {
		s.refuseUnauthenticated(w, r, rf)
		return
	}
	if kind := fault.KindOf(err); kind == fault.Internal || kind == fault.Unavailable {
		s.log.Error("dci request failed", "request_id", requestID(r.Context()), "err", err)
	}
	var ae *ackError
	if errors.As(err, &ae) {
		status := statusOf[fault.KindOf(ae.err)]
		p := problemFor(r, status, ae.err)
		ack := dci.NewErrorAck(ae.err, ae.corr, time.Now())
		p.Message = &ack.Message
		writeProblem(w, status, p.bytes())
		return
	}
	answerError(w, r, err, `Bearer error="invalid_token"`)
}

// refuseUnauthenticated records a refused, unauthenticated request in the audit log
// (who claimed what, about whom, and why it was refused) and answers it; if the record
// cannot be written the answer is 503, as for every exchange. When the request was not
// read yet it is read here (bounded), so that the record's request hash covers it and
// names the persons it asks about.
func (s *Server) refuseUnauthenticated(w http.ResponseWriter, r *http.Request, rf *refusal) {
	err, body := rf.err, rf.body
	status := statusOf[fault.KindOf(err)]
	answer := problemFor(r, status, err).bytes()
	client := rf.client
	if client == "" {
		client = "unauthenticated"
	}
	if body == nil {
		body, _ = io.ReadAll(io.LimitReader(r.Body, maxDCIBody))
	}
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: client}, Service: rf.service, Request: body}
	ans := exchange.Answer{Err: err, Status: status,
		Decision: exchange.Decision{Code: "unauthenticated", Reasons: []string{dci.SafeMessage(err)}}}
	if env, derr := dci.DecodeSearch(body); derr == nil {
		ask.MessageID = env.Header.MessageID
		for _, it := range env.Message.SearchRequest {
			if it.Query != nil {
				ans.Persons = append(ans.Persons, exchange.Named(*it.Query)...)
			}
		}
	}
	seq, serr := s.exchange.Seal(r.Context(), ask, ans, answer)
	if serr != nil {
		s.answerDCI(w, r, serr)
		return
	}
	w.Header().Set("X-Audit-Records", strconv.FormatInt(seq, 10))
	if ans.Status == http.StatusUnauthorized && dci.CodeOf(err) == dci.ErrUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`) // the token, not a signature
	}
	writeProblem(w, ans.Status, answer)
}
