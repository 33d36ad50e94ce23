package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// maxDCIBody bounds a DCI message.
const maxDCIBody = 1 << 20

// registries maps the path segment of each DCI registry to the directory's registry type.
var registries = map[string]string{"crvs": "civil", "sr": "social", "ibr": "beneficiary", "dr": "disability", "fr": "farmer"}

// meta is what the hub reads from header.meta: the purpose of the question, the fields
// wanted, and the date asked about. All optional.
type meta struct {
	Purpose string   `json:"purpose"`
	Fields  []string `json:"fields"`
	OnDate  string   `json:"on_date"`
}

// dciError answers a DCI request refused as a whole: a problem carrying the DCI errors
// array ({"errors":[{code, message}]}, the standard's HttpErrorResponse).
func (s *Server) dciError(w http.ResponseWriter, r *http.Request, err error) {
	if kind := fault.KindOf(err); kind == fault.Internal || kind == fault.Unavailable {
		s.log.Error("dci request failed", "request_id", requestID(r.Context()), "err", err.Error())
	}
	answerError(w, r, err, `Bearer error="invalid_token"`)
}

// refuseUnauthenticated records a refused, unauthenticated request in the audit log
// (who claimed what, about whom, and why it was refused) and answers it; if the record
// cannot be written the answer is 503, as for every exchange. body is the request as
// read, or nil when it was not read yet: it is read here (bounded), so that the record's
// request hash covers it and names the persons it asks about.
func (s *Server) refuseUnauthenticated(w http.ResponseWriter, r *http.Request, client, service string, err error, body []byte) {
	status := statusOf[fault.KindOf(err)]
	answer := problemFor(r, status, err).bytes()
	if client == "" {
		client = "unauthenticated"
	}
	if body == nil {
		body, _ = io.ReadAll(io.LimitReader(r.Body, maxDCIBody))
	}
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: client}, Service: service, Request: body}
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
		s.dciError(w, r, serr)
		return
	}
	w.Header().Set("X-Audit-Records", strconv.FormatInt(seq, 10))
	if ans.Status == http.StatusUnauthorized && dci.CodeOf(err) == dci.ErrUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`) // the token, not a signature
	}
	writeProblem(w, ans.Status, answer)
}

// bearer verifies the access token and that it holds scope, or one of also.
func (s *Server) bearer(r *http.Request, scope string, also ...string) (oauth.Claims, error) {
	token, ok := bearerToken(r)
	if !ok || token == "" {
		return oauth.Claims{}, dci.Coded(fault.Unauthorized, dci.ErrUnauthorized, "Authorization", "a bearer access token is required")
	}
	c, err := s.oauth.Verify(r.Context(), strings.TrimSpace(token))
	if err != nil {
		return c, dci.Coded(fault.Unauthorized, dci.ErrUnauthorized, "Authorization", dci.SafeMessage(err))
	}
	if !c.HasScope(scope) && !slices.ContainsFunc(also, c.HasScope) {
		return c, dci.Coded(fault.Forbidden, dci.ErrForbidden, "scope", "the token lacks scope "+scope)
	}
	return c, nil
}

// syncSearch serves {prefix}/{registry}/registry/sync/search: every item of the message
// is one question, decided, answered and recorded on its own.
func (s *Server) syncSearch(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	registry, ok := registries[r.PathValue("registry")]
	if !ok {
		s.dciError(w, r, dci.Coded(fault.NotFound, dci.ErrNotFound, "path", "no registry "+r.PathValue("registry")))
		return
	}
	claims, err := s.bearer(r, "registry.search")
	if err != nil {
		s.refuseUnauthenticated(w, r, claims.ClientID, "dci:"+r.PathValue("registry"), err, nil)
		return
	}
	body, env, m, err := readSearch(w, r)
	if err != nil {
		s.dciError(w, r, err)
		return
	}
	if err := s.checkSignature(r.Context(), claims.ClientID, env.Signature, env.RawHeader, env.RawMessage); err != nil {
		s.refuseUnauthenticated(w, r, claims.ClientID, "dci:"+r.PathValue("registry"), err, body)
		return
	}
	service := s.serviceFor(registry, env.Header.ReceiverID)
	if s.recent.seen(claims.ClientID+"\x00"+env.Header.MessageID, time.Now()) {
		s.duplicate(w, r, claims, service, env)
		return
	}
	over := sync.OnceFunc(s.exchange.Expect(len(env.Message.SearchRequest)))
	defer over()
	caller := exchange.Caller{ClientID: claims.ClientID, Institution: claims.Institution}
	asks, answers, whole := s.refusedWhole(env, caller, service, m, body, start)
	if !whole {
		asks, answers = s.ask(r.Context(), env, caller, service, m, body, start)
	}
	s.answerSearch(w, r, env, asks, answers, registry, over)
}

// refusedWhole returns the one refusal of a message whose items the policy refuses
// alike whatever they ask (exchange.Refusal), naming every person the items name, and
// true; else false.
func (s *Server) refusedWhole(env *dci.Envelope[dci.SearchRequest], caller exchange.Caller, service string, m meta, body []byte, start time.Time) ([]exchange.Ask, []exchange.Answer, bool) {
	day, _ := date.Parse(m.OnDate)
	ask := exchange.Ask{Caller: caller, Service: service, Purpose: m.Purpose, Fields: m.Fields, Day: day, Request: body, MessageID: env.Header.MessageID, Start: start}
	ans := s.exchange.Refusal(ask)
	if ans.Err == nil {
		return nil, nil, false
	}
	for _, it := range env.Message.SearchRequest {
		if it.Query != nil {
			ans.Persons = append(ans.Persons, exchange.Named(*it.Query)...)
		}
	}
	slices.Sort(ans.Persons)
	ans.Persons = slices.Compact(ans.Persons)
	return []exchange.Ask{ask}, []exchange.Answer{ans}, true
}

// duplicate refuses a repeated message: 200 with a header of status rjct and reason
// rjct.message_id.duplicate, and no message. The refusal is recorded.
func (s *Server) duplicate(w http.ResponseWriter, r *http.Request, claims oauth.Claims, service string, env *dci.Envelope[dci.SearchRequest]) {
	h := dci.CallbackHeaderFor(env.Header, dci.ActionOnSearch, newID(), hubSenderID, time.Now())
	h.Status, h.StatusReasonCode = dci.StatusRejected, dci.RjctMessageIDDuplicate
	h.StatusReasonMessage = "message " + env.Header.MessageID + " was already received; it is not processed again"
	h.TotalCount, h.CompletedCount = dci.Count(len(env.Message.SearchRequest)), 0
	body, _ := json.Marshal(struct {
		Header dci.CallbackHeader `json:"header"`
	}{h})
	err := dci.Coded(fault.Conflict, dci.ErrRequestBad, "header.message_id", h.StatusReasonMessage)
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: claims.ClientID, Institution: claims.Institution}, Service: service}
	ans := exchange.Answer{Err: err, Status: http.StatusOK, Decision: exchange.Decision{Code: "duplicate", Reasons: []string{h.StatusReasonMessage}}}
	if _, serr := s.exchange.Seal(r.Context(), ask, ans, body); serr != nil {
		s.dciError(w, r, serr)
		return
	}
	writeRaw(w, http.StatusOK, body)
}

// readSearch reads and decodes a DCI search message: JSON, at most 1 MiB.
func readSearch(w http.ResponseWriter, r *http.Request) ([]byte, *dci.Envelope[dci.SearchRequest], meta, error) {
	if err := needContentType(r, "application/json"); err != nil {
		return nil, nil, meta{}, err
	}
	body, err := readBody(w, r)
	if err != nil {
		return nil, nil, meta{}, err
	}
	env, err := dci.DecodeSearch(body)
	if err != nil {
		return nil, nil, meta{}, err
	}
	m, err := readMeta(env.Header.Meta)
	return body, env, m, err
}

// plainMeta reads the common case of header.meta, the hub's own: purpose and on_date
// strings, fields a list of strings, as json.Unmarshal would; false for anything else
// (other or differently cased names, null, other types), which is left to it.
func plainMeta(raw json.RawMessage, m *meta) bool {
	return rawjson.EachMember(raw, func(name string, v []byte) bool {
		var ok bool
		switch name {
		case "purpose":
			m.Purpose, ok = rawjson.Unquote(v)
		case "on_date":
			m.OnDate, ok = rawjson.Unquote(v)
		case "fields":
			var list []json.RawMessage
			if list, ok = rawjson.Elements(v); ok && !rawjson.IsNull(v) {
				m.Fields = make([]string, len(list))
				for i, f := range list {
					if m.Fields[i], ok = rawjson.Unquote(f); !ok {
						break
					}
				}
			} else {
				ok = false
			}
		}
		return ok
	})
}

func readMeta(raw json.RawMessage) (meta, error) {
	var m meta
	if len(raw) == 0 || raw[0] != '{' {
		return m, nil // absent, or a string as the samples send: nothing asked
	}
	if !plainMeta(raw, &m) {
		m = meta{}
		if err := json.Unmarshal(raw, &m); err != nil {
			return m, dci.Coded(fault.Invalid, dci.ErrRequestBad, "header.meta", "must hold purpose (string), fields (list of strings) and on_date (YYYY-MM-DD)")
		}
	}
	if _, err := date.Parse(m.OnDate); err != nil {
		return m, dci.Coded(fault.Invalid, dci.ErrRequestBad, "header.meta.on_date", err.Error())
	}
	return m, nil
}

// ask runs each item through the exchange.
func (s *Server) ask(ctx context.Context, env *dci.Envelope[dci.SearchRequest], caller exchange.Caller, service string, m meta, body []byte, start time.Time) ([]exchange.Ask, []exchange.Answer) {
	day, _ := date.Parse(m.OnDate)
	items := env.Message.SearchRequest
	asks := make([]exchange.Ask, len(items))
	answers := make([]exchange.Answer, len(items))
	for i, it := range items {
		asks[i] = exchange.Ask{Caller: caller, Service: service, Purpose: m.Purpose, Fields: m.Fields, Day: day, Request: body, MessageID: env.Header.MessageID, Start: start}
		if it.Err != nil {
			answers[i] = exchange.Answer{Err: it.Err, Status: 400, Decision: exchange.Decision{Code: exchange.DenyInvalid, Reasons: []string{dci.SafeMessage(it.Err)}}}
			continue
		}
		asks[i].Query = *it.Query
		answers[i] = s.exchange.Search(ctx, asks[i])
	}
	return asks, answers
}

// answerSearch builds the answer, records every item in the audit log, and only then
// sends it; if any record fails, nothing of the answer is sent. over ends the items'
// announcement to the audit writer (Expect) before a refusal's pause.
func (s *Server) answerSearch(w http.ResponseWriter, r *http.Request, env *dci.Envelope[dci.SearchRequest], asks []exchange.Ask, answers []exchange.Answer, registry string, over func()) {
	if refusedAll(answers) {
		status := statusOf[fault.KindOf(answers[0].Err)]
		body := problemFor(r, status, answers[0].Err).bytes()
		if s.seal(r.Context(), w, asks, answers, body) != nil {
			s.dciError(w, r, fault.Unavailablef(nil, "the exchange could not be recorded, so it was refused"))
			return
		}
		over()
		retryAfter(w, r, answers[0].Err)
		writeProblem(w, status, body)
		return
	}
	resp, err := searchAnswer(env, answers, registry, newID())
	if err != nil {
		s.dciError(w, r, fault.Wrap(err, "build answer"))
		return
	}
	body, err := dci.AppendSearchResponse(nil, resp)
	if err != nil {
		s.dciError(w, r, fault.Wrap(err, "encode answer"))
		return
	}
	if err := s.seal(r.Context(), w, asks, answers, body); err != nil {
		s.dciError(w, r, err)
		return
	}
	writeRaw(w, http.StatusOK, body)
}

// searchAnswer is the DCI answer to env from the exchange's answers, one per item.
func searchAnswer(env *dci.Envelope[dci.SearchRequest], answers []exchange.Answer, registry, correlationID string) (*dci.Callback[dci.SearchResponse], error) {
	outs := make([]dci.Outcome, len(answers))
	for i, a := range answers {
		outs[i] = dci.Outcome{Total: a.Total, Err: a.Err, Records: a.Items(), RecordType: a.RecordType}
	}
	return dci.NewSearchResponse(env, dci.Reply{MessageID: newID(), CorrelationID: correlationID, SenderID: hubSenderID,
		RegType: dci.RegistryType(registry), RecordType: "Person", Now: time.Now()}, outs)
}

// hubSenderID is the hub's sender_id in the messages it sends.
const hubSenderID = "crossroads"

// refusedAll reports whether the policy, or the limits, refused every item alike: the
// message is then refused (403, or 429 or 503 with Retry-After).
func refusedAll(answers []exchange.Answer) bool {
	for _, a := range answers {
		limited := a.Decision.Code == exchange.DenyLimited
		if a.Err == nil || (fault.KindOf(a.Err) != fault.Forbidden && !limited) || fault.KindOf(a.Err) != fault.KindOf(answers[0].Err) {
			return false
		}
	}
	return len(answers) > 0
}

// seal records every item and names the audit records in the X-Audit-Records header, so
// that a partner can later ask for their evidence.
func (s *Server) seal(ctx context.Context, w http.ResponseWriter, asks []exchange.Ask, answers []exchange.Answer, body []byte) error {
	seqs := make([]string, len(answers))
	for i := range answers {
		seq, err := s.exchange.Seal(ctx, asks[i], answers[i], body)
		if err != nil {
			return err
		}
		seqs[i] = strconv.FormatInt(seq, 10)
	}
	w.Header().Set("X-Audit-Records", strings.Join(seqs, ","))
	return nil
}
