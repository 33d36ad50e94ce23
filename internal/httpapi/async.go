package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/txn"
)

// Asynchronous DCI calls. The request is checked as a sync one is (token, message,
// signature), its header.sender_uri must start with a callback URL registered for the
// application, and it is stored as a transaction before the ACK: from then on it survives
// a restart. A worker (RunAsync) takes due transactions, runs them through the exchange
// (authorization, minimisation, audit), stores the answer, signs it with the hub's key
// and delivers it to sender_uri, retrying with back-off.
//
// Repeats: a message with the transaction_id of an earlier search of the application —
// the same message sent again (its ACK lost?), or a new one — is acknowledged with the
// earlier correlation_id: its answer is the earlier one (txn/status gives it), never a
// second exchange. A message_id already used for another transaction is not processed;
// it is answered ACK ERR naming the first transaction's correlation_id.

const (
	asyncPoll        = 250 * time.Millisecond // how often the worker looks for due work
	asyncWorkers     = 64                     // transactions processed at once
	callbackTimeout  = 10 * time.Second       // per delivery
	maxDeliveries    = 12                     // then the worker gives up (about 1 h 8 min of retries)
	firstRetry       = time.Second            // doubled after each failure…
	maxRetry         = 15 * time.Minute       // …up to this
	callbackLifetime = time.Hour              // validity of the signature on a callback
)

// ack answers an asynchronous request.
func (s *Server) ack(w http.ResponseWriter, status int, a dci.Ack) {
	body, _ := json.Marshal(a)
	writeRaw(w, status, body)
}

// callbackTo checks that uri is an http(s) URL under one of the application's callbacks
// (directory.CallbackUnder: compared as URLs) and returns its normal form, the one to
// post to. Without uri (the standard lets a default be configured at onboarding), the
// answer goes to the application's callback when it registered exactly one; with none
// or several there is no saying where, and the call is refused.
func (s *Server) callbackTo(ctx context.Context, client, uri string) (string, error) {
	e, err := s.signerOf(ctx, client)
	if err != nil {
		return "", err
	}
	if uri == "" {
		switch n := len(e.callbacks); n {
		case 1:
			uri = e.callbacks[0]
		case 0:
			return "", dci.Coded(fault.Invalid, dci.ErrSenderURI, "header.sender_uri",
				"is required for an asynchronous call (the answer goes there), and the application registers no callback URL")
		default:
			return "", dci.Coded(fault.Invalid, dci.ErrSenderURI, "header.sender_uri",
				fmt.Sprintf("is required for an asynchronous call (the answer goes there): the application registers %d callback URLs; name one", n))
		}
	}
	to, err := directory.CallbackUnder("header.sender_uri", e.callbacks, uri)
	if fe := (*fault.Error)(nil); errors.As(err, &fe) {
		return "", dci.Coded(fault.Invalid, dci.ErrSenderURI, fe.Field, fe.Msg)
	}
	return to, err
}

// asyncSearch serves {prefix}/{registry}/registry/search.
func (s *Server) asyncSearch(w http.ResponseWriter, r *http.Request) error {
	corr := newID()
	reg := r.PathValue("registry")
	if _, ok := registries[reg]; !ok {
		return dci.Coded(fault.NotFound, dci.ErrNotFound, "path", "no registry "+reg)
	}
	claims, err := s.bearer(r, "registry.search")
	if err != nil {
		return refused(claims.ClientID, "dci:"+reg, nil, err)
	}
	body, env, _, err := readSearch(w, r)
	if err != nil {
		return acked(corr, err)
	}
	if err := s.checkSignature(r.Context(), claims.ClientID, env.Signature, env.RawHeader, env.RawMessage); err != nil {
		return refused(claims.ClientID, "dci:"+reg, body, err)
	}
	return s.accept(w, r, txn.Txn{CorrelationID: corr, Client: claims.ClientID, Sender: env.Header.SenderID,
		MessageID: env.Header.MessageID, TransactionID: env.Message.TransactionID, Registry: reg,
		Action: dci.ActionSearch, Mode: txn.Async, Status: txn.Received, Request: body, CallbackURI: env.Header.SenderURI})
}

// accept stores an asynchronous transaction and acknowledges it, or answers a repeat.
func (s *Server) accept(w http.ResponseWriter, r *http.Request, t txn.Txn) error {
	ctx := r.Context()
	to, err := s.callbackTo(ctx, t.Client, t.CallbackURI)
	if err != nil {
		return acked(t.CorrelationID, err)
	}
	t.CallbackURI = to
	if t.Action == dci.ActionSearch {
		if first, err := s.txns.ByTransaction(ctx, t.Client, t.Action, t.TransactionID); err == nil {
			s.ack(w, http.StatusAccepted, dci.NewAck(first.CorrelationID, time.Now()))
			return nil
		} else if fault.KindOf(err) != fault.NotFound {
			return acked(t.CorrelationID, err)
		}
	}
	t.NextAttempt = time.Now()
	first, err := s.txns.Create(ctx, t)
	if fault.KindOf(err) == fault.Conflict {
		return acked(first.CorrelationID, dci.Coded(fault.Invalid, dci.ErrRequestBad, "header.message_id",
			fmt.Sprintf("%s: message %.99q was already received, under correlation id %s", dci.RjctMessageIDDuplicate, t.MessageID, first.CorrelationID)))
	}
	if err != nil {
		return acked(t.CorrelationID, err)
	}
	s.wake()
	s.ack(w, http.StatusAccepted, dci.NewAck(t.CorrelationID, time.Now()))
	return nil
}

// wake tells the worker there is work, without waiting.
func (s *Server) wake() {
	select {
	case s.work <- struct{}{}:
	default:
	}
}

// RunAsync processes and delivers asynchronous transactions until ctx ends, then waits
// for those under way. Transactions a restart interrupted are due again at once.
func (s *Server) RunAsync(ctx context.Context) {
	tick := time.NewTicker(asyncPoll)
	defer tick.Stop()
	var (
		mu       sync.Mutex
		inflight = map[string]bool{}
		wg       sync.WaitGroup
		slots    = make(chan struct{}, asyncWorkers)
	)
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.work:
		}
		due, err := s.txns.Due(ctx, time.Now(), 4*asyncWorkers)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("read due transactions", "err", err)
			}
			continue
		}
		for _, t := range due {
			mu.Lock()
			busy := inflight[t.CorrelationID]
			inflight[t.CorrelationID] = true
			mu.Unlock()
			if busy {
				continue
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func() {
				defer func() {
					mu.Lock()
					delete(inflight, t.CorrelationID)
					mu.Unlock()
					<-slots
					wg.Done()
				}()
				// The list of due transactions was read before this one's turn came; a
				// worker may have handled it meanwhile (and left the in-flight set), which
				// would send its callback twice.
				cur, err := s.txns.Get(ctx, t.CorrelationID)
				if err != nil || !cur.Updated.Equal(t.Updated) {
					return
				}
				s.advance(context.WithoutCancel(ctx), cur)
			}()
		}
	}
}

// advance answers t if it has no answer yet, then delivers the answer, and records the
// outcome (answer and delivery, or answer and the next attempt) in one write. A crash
// before that write leaves t unanswered: it is answered again after the restart, and
// the audit log holds both exchanges.
func (s *Server) advance(ctx context.Context, t txn.Txn) {
	// Checked again before anything is done: the transaction may have been stored by a
	// hub with other rules, or the application's callbacks changed since. A subscribe
	// would make the URL a push endpoint; a refused URL gets nothing, ever.
	to, err := s.callbackTo(ctx, t.Client, t.CallbackURI)
	switch {
	case fault.KindOf(err) == fault.Invalid:
		t.LastError, t.NextAttempt = "callback URL: "+dci.SafeMessage(err), time.Time{}
		s.log.Warn("refused a transaction's callback URL", "correlation_id", t.CorrelationID, "err", err)
		if err := s.txns.Update(ctx, t); err != nil {
			s.log.Error("record a refused callback URL", "correlation_id", t.CorrelationID, "err", err)
		}
		return
	case err != nil:
		s.retry(ctx, t, "callback URL: "+err.Error())
		return
	}
	t.CallbackURI = to
	if !t.Answered() {
		if t, err = s.answerAsync(ctx, t); err != nil {
			s.retry(ctx, t, "answer: "+err.Error())
			return
		}
	}
	if err := s.deliver(ctx, t); err != nil {
		s.retry(ctx, t, err.Error())
		return
	}
	t.Delivered, t.NextAttempt, t.LastError = time.Now(), time.Time{}, ""
	if err := s.txns.Update(ctx, t); err != nil {
		s.log.Error("record a delivery", "correlation_id", t.CorrelationID, "err", err)
	}
}

// retry records a failed attempt and when to try again; after maxDeliveries, never.
func (s *Server) retry(ctx context.Context, t txn.Txn, why string) {
	t.Attempts++
	t.LastError = why
	wait := min(firstRetry<<min(t.Attempts-1, 20), maxRetry)
	t.NextAttempt = time.Now().Add(wait)
	if t.Attempts >= maxDeliveries {
		t.NextAttempt = time.Time{}
		s.log.Warn("gave up delivering a callback", "correlation_id", t.CorrelationID, "attempts", t.Attempts, "err", why)
	}
	if err := s.txns.Update(ctx, t); err != nil {
		s.log.Error("record a failed attempt", "correlation_id", t.CorrelationID, "err", err)
	}
}

// answerAsync runs a stored request (search, subscribe, unsubscribe) and keeps the
// signed callback in t.
func (s *Server) answerAsync(ctx context.Context, t txn.Txn) (txn.Txn, error) {
	e, err := s.signerOf(ctx, t.Client)
	if err != nil {
		return t, err
	}
	caller := exchange.Caller{ClientID: t.Client, Institution: e.institution}
	var body []byte
	switch t.Action {
	case dci.ActionSearch:
		body, err = s.answerAsyncSearch(ctx, t, caller, e.active)
	case dci.ActionSubscribe, dci.ActionUnsubscribe:
		if !e.active {
			err = fault.Forbiddenf("the application is not active")
			break
		}
		answer := s.answerSubscribe
		if t.Action == dci.ActionUnsubscribe {
			answer = s.answerUnsubscribe
		}
		var header, message any
		if header, message, err = answer(ctx, t, caller); err == nil {
			body, err = s.signed(header, message)
		}
	default:
		err = fault.Wrap(fmt.Errorf("action %q", t.Action), "answer a transaction")
	}
	if err != nil {
		return t, err
	}
	t.Status, t.Response = txn.Success, body
	return t, nil
}

// answerAsyncSearch runs a stored search through the exchange and returns the signed
// callback, sealed in the audit log.
func (s *Server) answerAsyncSearch(ctx context.Context, t txn.Txn, caller exchange.Caller, active bool) ([]byte, error) {
	start := time.Now()
	env, err := dci.DecodeSearch(t.Request)
	if err != nil {
		return nil, err // it was decoded before the ACK: only a change of the decoder gets here
	}
	m, err := readMeta(env.Header.Meta)
	if err != nil {
		return nil, err
	}
	var answers []exchange.Answer
	var asks []exchange.Ask
	if !active {
		refused := dci.Coded(fault.Forbidden, dci.ErrForbidden, "client_id", "the application is not active")
		asks = make([]exchange.Ask, len(env.Message.SearchRequest))
		answers = make([]exchange.Answer, len(asks))
		for i := range asks {
			asks[i] = exchange.Ask{Caller: caller, Service: "dci:" + t.Registry, Request: t.Request, Start: start}
			answers[i] = exchange.Answer{Err: refused, Status: http.StatusForbidden, Decision: exchange.Decision{Code: "inactive", Reasons: []string{"the application is not active"}}}
		}
	} else {
		done := s.exchange.Expect(len(env.Message.SearchRequest))
		defer done()
		asks, answers = s.ask(ctx, env, caller, s.serviceFor(registries[t.Registry], env.Header.ReceiverID), m, t.Request, start)
	}
	resp, err := searchAnswer(env, answers, registries[t.Registry], t.CorrelationID)
	if err != nil {
		return nil, err
	}
	body, err := s.signed(resp.Header, resp.Message)
	if err != nil {
		return nil, err
	}
	for i := range answers {
		if _, err := s.exchange.Seal(ctx, asks[i], answers[i], body); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// signed writes a callback envelope signed with the hub's key (an Ed25519 signature
// string a partner checks with the key of the hub's JWKS). A nil message is left out.
func (s *Server) signed(header, message any) ([]byte, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return nil, fault.Wrap(err, "encode callback")
	}
	var m []byte
	if message != nil {
		if m, err = json.Marshal(message); err != nil {
			return nil, fault.Wrap(err, "encode callback")
		}
	}
	signer, err := s.keys.Current()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	sig, err := dci.SignEd25519With(h, m, hubSenderID, signer.KeyID, signer.Sign, now, now.Add(callbackLifetime))
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		Signature string          `json:"signature"`
		Header    json.RawMessage `json:"header"`
		Message   json.RawMessage `json:"message,omitempty"`
	}{sig, h, m})
}

// deliver posts t's answer to its callback URL; any 2xx is a delivery.
func (s *Server) deliver(ctx context.Context, t txn.Txn) error {
	ctx, cancel := context.WithTimeout(ctx, callbackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.CallbackURI, bytes.NewReader(t.Response))
	if err != nil {
		return fmt.Errorf("callback URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.callbacks.Do(req)
	if err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the callback URL answered %d", resp.StatusCode)
	}
	return nil
}
