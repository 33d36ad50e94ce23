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
	"github.com/crossroads-hub/crossroads/internal/oauth"
)

// dciHandler is a DCI handler: it writes its answer, or returns its error for dciAdapt to
// answer. The error's kind gives the status (statusOf) and the DCI code (dci.CodeOf); marks
// say which shape the answer takes besides the problem every error gets, and whether it
// is recorded first:
//   - refused(…): a refusal before the caller was trusted (token, signature, a source's
//     rights), recorded in the audit log before it is answered;
//   - rejected(…): a refusal of an authenticated caller's message (malformed, repeated, a
//     callback URL not its own), recorded alike: every attempt can be found afterwards;
//   - acked(…): a refusal of an asynchronous call's message, answered ACK ERR under the
//     call's correlation id (with one of the marks above: recorded too);
//   - anything else: the problem with the DCI errors array.
type dciHandler func(w http.ResponseWriter, r *http.Request) error

// refusal is an error to record in the audit log before it is answered.
type refusal struct {
	err     error
	caller  exchange.Caller // who asked; ClientID "" when no token named one
	code    string          // the record's decision code
	service string          // what it asked for ("dci:crvs", "batch")
	body    []byte          // the request as read; nil when it was not read yet
	// persons are the persons the request names, when the handler read them; nil: read
	// from body as far as it is a search (dci.Asked).
	persons []string
}

func (e *refusal) Error() string { return e.err.Error() }
func (e *refusal) Unwrap() error { return e.err }

// refused marks err as a refusal of client's request for service, to be recorded.
func refused(client, service string, body []byte, err error) error {
	return &refusal{err: err, caller: exchange.Caller{ClientID: client}, code: "unauthenticated", service: service, body: body}
}

// rejected marks err, the refusal of an authenticated caller's message for service, to be
// recorded under the caller and its institution; body is what was read of the message
// (nil: nothing, it is not read again). nil stays nil.
func rejected(claims oauth.Claims, service string, body []byte, err error) error {
	if err == nil {
		return nil
	}
	code := exchange.DenyInvalid
	switch k := fault.KindOf(err); k {
	case fault.Invalid, fault.TooLarge, fault.Unsupported:
	case fault.Conflict:
		code = "duplicate"
	default:
		code = k.String()
	}
	if body == nil {
		body = []byte{}
	}
	return &refusal{err: err, caller: exchange.Caller{ClientID: claims.ClientID, Institution: claims.Institution},
		code: code, service: service, body: body}
}

// naming sets the persons the record of a refusal names, when err is one.
func naming(err error, persons []string) error {
	var rf *refusal
	if errors.As(err, &rf) {
		rf.persons = persons
	}
	return err
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
	if kind := fault.KindOf(err); kind == fault.Internal || kind == fault.Unavailable {
		s.log.Error("dci request failed", "request_id", requestID(r.Context()), "err", err)
	}
	status := statusOf[fault.KindOf(err)]
	p := problemFor(r, status, err)
	var ae *ackError
	if errors.As(err, &ae) {
		ack := dci.NewErrorAck(err, ae.corr, time.Now())
		p.Message = &ack.Message
	}
	var rf *refusal
	switch {
	case errors.As(err, &rf):
		s.recordRefusal(w, r, rf, status, p.bytes())
	case ae != nil:
		writeProblem(w, status, p.bytes())
	default:
		answerError(w, r, err, `Bearer error="invalid_token"`)
	}
}

// recordRefusal records a refused request in the audit log (who claimed what, about
// whom, and why it was refused) and answers it with answer; if the record cannot be
// written the answer is 503, as for every exchange. When the request was not read yet it
// is read here (bounded), so that the record's request hash covers it and names the
// persons it asks about.
func (s *Server) recordRefusal(w http.ResponseWriter, r *http.Request, rf *refusal, status int, answer []byte) {
	body := rf.body
	if body == nil {
		body, _ = io.ReadAll(io.LimitReader(r.Body, maxDCIBody))
	}
	caller := rf.caller
	if caller.ClientID == "" {
		caller.ClientID = "unauthenticated"
	}
	ask := exchange.Ask{Caller: caller, Service: rf.service, Request: body}
	ans := exchange.Answer{Err: rf.err, Status: status, Persons: rf.persons,
		Decision: exchange.Decision{Code: rf.code, Reasons: []string{dci.SafeMessage(rf.err)}}}
	if ans.Persons == nil {
		ans.Persons = exchange.NamedIn(dci.Asked(body))
	}
	// An authenticated caller's rejected message keeps no message id: the id was not
	// taken, and a restarted hub, which remembers recent ids from the log, must not
	// refuse its corrected message as a repeat.
	if env, derr := dci.DecodeSearch(body); derr == nil && rf.code == "unauthenticated" {
		ask.MessageID = env.Header.MessageID
	}
	seq, serr := s.exchange.Seal(r.Context(), ask, ans, answer)
	if serr != nil {
		s.answerDCI(w, r, serr)
		return
	}
	w.Header().Set("X-Audit-Records", strconv.FormatInt(seq, 10))
	if status == http.StatusUnauthorized && dci.CodeOf(rf.err) == dci.ErrUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`) // the token, not a signature
	}
	writeProblem(w, status, answer)
}
