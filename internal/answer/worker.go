package answer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/lease"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/txn"
)

// Asynchronous DCI calls. The request is checked as a sync one is (token, message,
// signature), its header.sender_uri must start with a callback URL registered for the
// application, and it is stored as a transaction before the ACK (Accept): from then on
// it survives a restart. A worker (Run) takes due transactions, runs them through the
// exchange (authorization, minimisation, audit), stores the answer, signs it with the
// hub's key and delivers it to sender_uri, retrying with back-off.
//
// Repeats: a message with the transaction_id of an earlier search of the application —
// the same message sent again (its ACK lost?), or a new one — is acknowledged with the
// earlier correlation_id: its answer is the earlier one (txn/status gives it), never a
// second exchange. A message_id already used for another transaction is not processed;
// it is answered ACK ERR naming the first transaction's correlation_id.

const (
	asyncPoll       = 250 * time.Millisecond // how often the worker looks for due work
	asyncWorkers    = 64                     // transactions processed at once
	callbackTimeout = 10 * time.Second       // per delivery
	maxDeliveries   = 12                     // then the worker gives up (about 1 h 8 min of retries)
)

// callbackBackoff is the wait before delivering a callback again: 1 s doubled after
// each failure, up to 15 min (no jitter: the worker polls every asyncPoll anyway).
var callbackBackoff = outbound.Backoff{First: time.Second, Max: 15 * time.Minute}

// Config is what the worker needs.
type Config struct {
	Txns      txn.Store // the transactions
	Exchange  *exchange.Exchange
	Directory *directory.Directory // the applications, and the subscriptions it writes
	Keys      *oauth.KeySet        // signs the callbacks
	// ServiceFor names the service answering a registry type ("civil"), or the one the
	// request's receiver_id names.
	ServiceFor func(registry, receiverID string) string
	// Client posts the callbacks (each post has its own timeout); it must not follow
	// redirects: the hub posts only to URLs it checked.
	Client *http.Client
	Log    *slog.Logger
}

// Worker answers and delivers the asynchronous DCI transactions.
type Worker struct {
	Config
	work chan struct{} // wakes Run
}

// New returns a worker; Run starts it.
func New(c Config) *Worker {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return &Worker{Config: c, work: make(chan struct{}, 1)}
}

// CallbackTo checks that uri is an http(s) URL under one of callbacks, the
// application's registered callback URLs (directory.CallbackUnder: compared as URLs), and
// returns its normal form, the one to post to. Without uri (the standard lets a default
// be configured at onboarding), the answer goes to the application's callback when it
// registered exactly one; with none or several there is no saying where, and the call is
// refused.
func CallbackTo(callbacks []string, uri string) (string, error) {
	if uri == "" {
		switch n := len(callbacks); n {
		case 1:
			uri = callbacks[0]
		case 0:
			return "", dci.Coded(fault.Invalid, dci.ErrSenderURI, "header.sender_uri",
				"is required for an asynchronous call (the answer goes there), and the application registers no callback URL")
		default:
			return "", dci.Coded(fault.Invalid, dci.ErrSenderURI, "header.sender_uri",
				fmt.Sprintf("is required for an asynchronous call (the answer goes there): the application registers %d callback URLs; name one", n))
		}
	}
	to, err := directory.CallbackUnder("header.sender_uri", callbacks, uri)
	if fe := (*fault.Error)(nil); errors.As(err, &fe) {
		return "", dci.Coded(fault.Invalid, dci.ErrSenderURI, fe.Field, fe.Msg)
	}
	return to, err
}

// Accept stores an asynchronous transaction, callbacks being the application's callback
// URLs, and returns the correlation id to acknowledge: t's, or for a repeated search that
// of the first. A refusal names the correlation id to answer it under (a message id
// already used: the first transaction's).
func (w *Worker) Accept(ctx context.Context, t txn.Txn, callbacks []string) (correlationID string, err error) {
	to, err := CallbackTo(callbacks, t.CallbackURI)
	if err != nil {
		return t.CorrelationID, err
	}
	t.CallbackURI = to
	if t.Action == dci.ActionSearch {
		if first, err := w.Txns.ByTransaction(ctx, t.Client, t.Action, t.TransactionID); err == nil {
			return first.CorrelationID, nil
		} else if fault.KindOf(err) != fault.NotFound {
			return t.CorrelationID, err
		}
	}
	t.NextAttempt = time.Now()
	first, err := w.Txns.Create(ctx, t)
	if fault.KindOf(err) == fault.Conflict {
		return first.CorrelationID, dci.Coded(fault.Invalid, dci.ErrRequestBad, "header.message_id",
			fmt.Sprintf("%s: message %.99q was already received, under correlation id %s", dci.RjctMessageIDDuplicate, t.MessageID, first.CorrelationID))
	}
	if err != nil {
		return t.CorrelationID, err
	}
	w.Wake()
	return t.CorrelationID, nil
}

// Find returns client's transaction of action txnType named by its transaction_id
// (dci.AttrTransactionID) or correlation id: an application sees only its own; another's
// is one that does not exist (fault.NotFound).
func (w *Worker) Find(ctx context.Context, client, txnType, attribute, value string) (txn.Txn, error) {
	if attribute == dci.AttrTransactionID {
		return w.Txns.ByTransaction(ctx, client, txnType, value)
	}
	t, err := w.Txns.Get(ctx, value)
	if err == nil && (t.Client != client || t.Action != txnType) {
		return txn.Txn{}, fault.NotFoundf("no such transaction")
	}
	return t, err
}

// Wake tells the worker there is work, without waiting.
func (w *Worker) Wake() {
	select {
	case w.work <- struct{}{}:
	default:
	}
}

// Run processes and delivers asynchronous transactions until ctx ends, then waits
// for those under way. Transactions a restart interrupted are due again at once.
func (w *Worker) Run(ctx context.Context) {
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
		case <-w.work:
		}
		due, err := w.Txns.Due(ctx, time.Now(), 4*asyncWorkers)
		if err != nil {
			if ctx.Err() == nil {
				w.Log.Error("read due transactions", "err", err)
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
				cur, err := w.Txns.Get(ctx, t.CorrelationID)
				if err != nil || !cur.Updated.Equal(t.Updated) {
					return
				}
				w.advance(context.WithoutCancel(ctx), cur)
			}()
		}
	}
}

// application is what the worker reads of the application that made a call.
type application struct {
	institution string
	active      bool
	callbacks   []string
}

func (w *Worker) application(ctx context.Context, client string) (application, error) {
	app, _, err := directory.Get[directory.Application](ctx, w.Directory, client)
	if err != nil {
		return application{}, err
	}
	return application{institution: app.Institution, active: app.Status == directory.StatusActive, callbacks: app.Callbacks}, nil
}

// advance answers t if it has no answer yet, then delivers the answer, and records the
// outcome (answer and delivery, or answer and the next attempt) in one write. A crash
// before that write leaves t unanswered: it is answered again after the restart, and
// the audit log holds both exchanges.
//
// Before each effect that only the holder of the worker's lease may have (sealing and
// storing an answer, posting the callback, recording the outcome), the worker confirms
// the lease with the store (held): a replica that lost it (cut off from the database,
// paused) leaves t as stored to the next holder, rather than answering, delivering or
// recording it a second time beside it.
func (w *Worker) advance(ctx context.Context, t txn.Txn) {
	// Checked again before anything is done: the transaction may have been stored by a
	// hub with other rules, or the application's callbacks changed since. A subscribe
	// would make the URL a push endpoint; a refused URL gets nothing, ever.
	app, err := w.application(ctx, t.Client)
	to := ""
	if err == nil {
		to, err = CallbackTo(app.callbacks, t.CallbackURI)
	}
	switch {
	case fault.KindOf(err) == fault.Invalid:
		t.LastError, t.NextAttempt = "callback URL: "+dci.SafeMessage(err), time.Time{}
		w.Log.Warn("refused a transaction's callback URL", "correlation_id", t.CorrelationID, "err", err)
		w.update(ctx, t, "record a refused callback URL")
		return
	case err != nil:
		w.retry(ctx, t, "callback URL: "+err.Error())
		return
	}
	t.CallbackURI = to
	if !t.Answered() {
		if !w.held(ctx, t, "answer") {
			return
		}
		if t, err = w.answer(ctx, t, app); err != nil {
			w.retry(ctx, t, "answer: "+err.Error())
			return
		}
	}
	if !w.held(ctx, t, "deliver") {
		return
	}
	if err := w.deliver(ctx, t); err != nil {
		w.retry(ctx, t, err.Error())
		return
	}
	t.Delivered, t.NextAttempt, t.LastError = time.Now(), time.Time{}, ""
	w.update(ctx, t, "record a delivery")
}

// held reports whether this replica still holds the worker's lease, asking the store at
// once (lease.Confirm; a worker run without a lease, or under one that cannot be asked,
// always holds it). step names what would follow, for the log.
func (w *Worker) held(ctx context.Context, t txn.Txn, step string) bool {
	if err := lease.Confirm(ctx); err != nil {
		w.Log.Warn("the asynchronous worker's lease is lost: a transaction left to the next holder",
			"correlation_id", t.CorrelationID, "step", step, "err", err)
		return false
	}
	return true
}

// update records t's progress, if the lease is still held.
func (w *Worker) update(ctx context.Context, t txn.Txn, what string) {
	if !w.held(ctx, t, what) {
		return
	}
	if err := w.Txns.Update(ctx, t); err != nil {
		w.Log.Error(what, "correlation_id", t.CorrelationID, "err", err)
	}
}

// retry records a failed attempt and when to try again; after maxDeliveries, never.
func (w *Worker) retry(ctx context.Context, t txn.Txn, why string) {
	t.Attempts++
	t.LastError = why
	t.NextAttempt = time.Now().Add(callbackBackoff.Delay(t.Attempts))
	if t.Attempts >= maxDeliveries {
		t.NextAttempt = time.Time{}
		w.Log.Warn("gave up delivering a callback", "correlation_id", t.CorrelationID, "attempts", t.Attempts, "err", why)
	}
	w.update(ctx, t, "record a failed attempt")
}

// answer runs a stored request (search, subscribe, unsubscribe) and keeps the signed
// callback in t.
func (w *Worker) answer(ctx context.Context, t txn.Txn, app application) (txn.Txn, error) {
	caller := exchange.Caller{ClientID: t.Client, Institution: app.institution}
	var body []byte
	var err error
	switch t.Action {
	case dci.ActionSearch:
		body, err = w.answerSearch(ctx, t, caller, app.active)
	case dci.ActionSubscribe, dci.ActionUnsubscribe:
		if !app.active {
			err = fault.Forbiddenf("the application is not active")
			break
		}
		answer := w.subscribe
		if t.Action == dci.ActionUnsubscribe {
			answer = w.unsubscribe
		}
		var header, message any
		if header, message, err = answer(ctx, t, caller); err == nil {
			body, err = w.Sign(header, message)
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

// answerSearch runs a stored search through the exchange and returns the signed
// callback, sealed in the audit log.
func (w *Worker) answerSearch(ctx context.Context, t txn.Txn, caller exchange.Caller, active bool) ([]byte, error) {
	start := time.Now()
	env, err := dci.DecodeSearch(t.Request)
	if err != nil {
		return nil, err // it was decoded before the ACK: only a change of the decoder gets here
	}
	m, err := ReadMeta(env.Header.Meta)
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
		done := w.Exchange.Expect(len(env.Message.SearchRequest))
		defer done()
		asks, answers = Ask(ctx, w.Exchange, env, caller, w.ServiceFor(Registries[t.Registry], env.Header.ReceiverID), m, t.Request, start)
	}
	resp, err := SearchResponse(env, answers, Registries[t.Registry], t.CorrelationID)
	if err != nil {
		return nil, err
	}
	body, err := w.Sign(resp.Header, resp.Message)
	if err != nil {
		return nil, err
	}
	for i := range answers {
		if _, err := w.Exchange.Seal(ctx, asks[i], answers[i], body); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// Sign writes a callback envelope signed with the hub's key (an Ed25519 signature
// string a partner checks with the key of the hub's JWKS). A nil message is left out.
func (w *Worker) Sign(header, message any) ([]byte, error) {
	return outbound.Envelope(w.Keys, header, message, time.Now())
}

// deliver posts t's answer to its callback URL; any 2xx is a delivery.
func (w *Worker) deliver(ctx context.Context, t txn.Txn) error {
	resp, err := outbound.Post(ctx, w.Client, outbound.Request{URL: t.CallbackURI, Body: t.Response, Timeout: callbackTimeout})
	if err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	if !resp.OK() {
		return fmt.Errorf("the callback URL answered %d", resp.Status)
	}
	return nil
}
