package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/answer"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// maxDCIBody bounds a DCI message.
const maxDCIBody = 1 << 20

// registries maps the path segment of each DCI registry to the directory's registry type.
var registries = answer.Registries

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
func (s *Server) syncSearch(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	registry, ok := registries[r.PathValue("registry")]
	if !ok {
		return dci.Coded(fault.NotFound, dci.ErrNotFound, "path", "no registry "+r.PathValue("registry"))
	}
	claims, err := s.bearer(r, "registry.search")
	if err != nil {
		return refused(claims.ClientID, "dci:"+r.PathValue("registry"), nil, err)
	}
	body, env, m, err := readSearch(w, r)
	if err != nil {
		return rejected(claims, "dci:"+r.PathValue("registry"), body, err)
	}
	if err := s.checkSignature(r.Context(), claims.ClientID, env.Signature, env.RawHeader, env.RawMessage); err != nil {
		return refused(claims.ClientID, "dci:"+r.PathValue("registry"), body, err)
	}
	service := s.serviceFor(registry, env.Header.ReceiverID)
	if rep, err := s.repeated(r.Context(), claims.ClientID, env.Header.MessageID); err != nil {
		return err
	} else if rep {
		return s.duplicate(w, r, claims, service, body, env)
	}
	over := sync.OnceFunc(s.exchange.Expect(len(env.Message.SearchRequest)))
	defer over()
	caller := exchange.Caller{ClientID: claims.ClientID, Institution: claims.Institution}
	asks, answers, whole := s.refusedWhole(env, caller, service, m, body, start)
	if !whole {
		asks, answers = answer.Ask(r.Context(), s.exchange, env, caller, service, m, body, start)
	}
	return s.answerSearch(w, r, env, asks, answers, registry, over)
}

// refusedWhole returns the one refusal of a message whose items the policy refuses
// alike whatever they ask (exchange.Refusal), naming every person the items name, and
// true; else false.
func (s *Server) refusedWhole(env *dci.Envelope[dci.SearchRequest], caller exchange.Caller, service string, m answer.Meta, body []byte, start time.Time) ([]exchange.Ask, []exchange.Answer, bool) {
	day, _ := date.Parse(m.OnDate)
	ask := exchange.Ask{Caller: caller, Service: service, Purpose: m.Purpose, Fields: m.Fields, Day: day, Request: body, MessageID: env.Header.MessageID, Start: start}
	ans := s.exchange.Refusal(ask)
	if ans.Err == nil {
		return nil, nil, false
	}
	ans.Persons = exchange.NamedIn(asked(env))
	return []exchange.Ask{ask}, []exchange.Answer{ans}, true
}

// duplicate refuses a repeated message: 200 with a header of status rjct and reason
// rjct.message_id.duplicate, and no message. The refusal is recorded, naming the persons
// the message asks about, in X-Audit-Records.
func (s *Server) duplicate(w http.ResponseWriter, r *http.Request, claims oauth.Claims, service string, request []byte, env *dci.Envelope[dci.SearchRequest]) error {
	h := dci.CallbackHeaderFor(env.Header, dci.ActionOnSearch, newID(), outbound.SenderID, time.Now())
	h.Status, h.StatusReasonCode = dci.StatusRejected, dci.RjctMessageIDDuplicate
	h.StatusReasonMessage = "message " + env.Header.MessageID + " was already received; it is not processed again"
	h.TotalCount, h.CompletedCount = dci.Count(len(env.Message.SearchRequest)), 0
	body, _ := json.Marshal(struct {
		Header dci.CallbackHeader `json:"header"`
	}{h})
	err := dci.Coded(fault.Conflict, dci.ErrRequestBad, "header.message_id", h.StatusReasonMessage)
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: claims.ClientID, Institution: claims.Institution}, Service: service, Request: request}
	ans := exchange.Answer{Err: err, Status: http.StatusOK, Persons: exchange.NamedIn(asked(env)),
		Decision: exchange.Decision{Code: "duplicate", Reasons: []string{h.StatusReasonMessage}}}
	seq, serr := s.exchange.Seal(r.Context(), ask, ans, body)
	if serr != nil {
		return serr
	}
	w.Header().Set("X-Audit-Records", strconv.FormatInt(seq, 10))
	writeRaw(w, http.StatusOK, body)
	return nil
}

// asked lists what the items of a message ask, those rejected too, as far as it was read.
func asked(env *dci.Envelope[dci.SearchRequest]) []query.Query {
	var qs []query.Query
	for _, it := range env.Message.SearchRequest {
		if q := cmp.Or(it.Query, it.Asked); q != nil {
			qs = append(qs, *q)
		}
	}
	return qs
}

// readSearch reads and decodes a DCI search message: JSON, at most 1 MiB. The body is
// returned with a refusal of the message, as far as it was read.
func readSearch(w http.ResponseWriter, r *http.Request) ([]byte, *dci.Envelope[dci.SearchRequest], answer.Meta, error) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, nil, answer.Meta{}, err
	}
	env, err := dci.DecodeSearch(body)
	if err != nil {
		return body, nil, answer.Meta{}, err
	}
	m, err := answer.ReadMeta(env.Header.Meta)
	return body, env, m, err
}

// answerSearch builds the answer, records every item in the audit log, and only then
// sends it; if any record fails, nothing of the answer is sent. over ends the items'
// announcement to the audit writer (Expect) before a refusal's pause.
func (s *Server) answerSearch(w http.ResponseWriter, r *http.Request, env *dci.Envelope[dci.SearchRequest], asks []exchange.Ask, answers []exchange.Answer, registry string, over func()) error {
	if refusedAll(answers) {
		status := statusOf[fault.KindOf(answers[0].Err)]
		body := problemFor(r, status, answers[0].Err).bytes()
		if err := s.seal(r.Context(), w, asks, answers, body); err != nil {
			return fault.Unavailablef(err, "the exchange could not be recorded, so it was refused")
		}
		over()
		retryAfter(w, r, answers[0].Err)
		writeProblem(w, status, body)
		return nil
	}
	resp, err := answer.SearchResponse(env, answers, registry, newID())
	if err != nil {
		return fault.Wrap(err, "build answer")
	}
	body, err := dci.AppendSearchResponse(nil, resp)
	if err != nil {
		return fault.Wrap(err, "encode answer")
	}
	if err := s.seal(r.Context(), w, asks, answers, body); err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, body)
	return nil
}

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
