package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/txn"
)

// Transaction status. An application sees only its own transactions; one named by an id
// it does not own is answered as one that does not exist. Every status request is
// recorded in the audit log and its record named in X-Audit-Records: a read of a stored
// search answer as an exchange of its own (reread), any other as a status read, refused
// when the transaction is not the caller's; a refused token, signature or message like
// any refusal.

// readTxnStatus authenticates and decodes a status request; its errors are marked for
// the record (refused, rejected).
func (s *Server) readTxnStatus(w http.ResponseWriter, r *http.Request) (oauth.Claims, []byte, *dci.Envelope[dci.TxnStatusRequest], error) {
	service := "dci:txn-status"
	claims, err := s.bearer(r, "registry.txn_status", "registry.search", "registry.subscribe")
	if err != nil {
		return claims, nil, nil, refused(claims.ClientID, service, nil, err)
	}
	body, err := readBody(w, r)
	if err != nil {
		return claims, nil, nil, rejected(claims, service, body, err)
	}
	env, err := dci.DecodeTxnStatus(body)
	if err != nil {
		return claims, nil, nil, rejected(claims, service, body, err)
	}
	if err := s.checkSignature(r.Context(), claims.ClientID, env.Signature, env.RawHeader, env.RawMessage); err != nil {
		return claims, nil, nil, refused(claims.ClientID, service, body, err)
	}
	return claims, body, env, nil
}

// syncTxnStatus serves {prefix}/{registry}/registry/sync/txn/status.
func (s *Server) syncTxnStatus(w http.ResponseWriter, r *http.Request) error {
	claims, request, env, err := s.readTxnStatus(w, r)
	if err != nil {
		return err
	}
	header, message, rr, err := s.txnStatus(r.Context(), claims, env, request, newID())
	if err != nil {
		return err
	}
	var reply any // left out when there is no message
	if message != nil {
		reply = message
	}
	body, err := json.Marshal(struct {
		Header  dci.CallbackHeader `json:"header"`
		Message any                `json:"message,omitempty"`
	}{header, reply})
	if err != nil {
		return fault.Wrap(err, "encode answer")
	}
	if err := s.sealReread(r.Context(), w, rr, body); err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, body)
	return nil
}

// asyncTxnStatus serves {prefix}/{registry}/registry/txn/status: the answer is made at
// once, recorded, stored, and delivered to sender_uri as txn/on-status by the worker. A
// refused token or signature is answered as an error; the message's problems ACK ERR;
// both recorded.
func (s *Server) asyncTxnStatus(w http.ResponseWriter, r *http.Request) error {
	corr := newID()
	claims, body, env, err := s.readTxnStatus(w, r)
	client := claims.ClientID
	if err != nil {
		if fault.KindOf(err) == fault.Unauthorized || fault.KindOf(err) == fault.Forbidden {
			return err
		}
		return acked(corr, err)
	}
	if _, err := s.callbackTo(r.Context(), client, env.Header.SenderURI); err != nil {
		return rejected(claims, "dci:txn-status", body, acked(corr, err))
	}
	header, message, rr, err := s.txnStatus(r.Context(), claims, env, body, corr)
	if err != nil {
		return acked(corr, err)
	}
	var reply any
	if message != nil {
		reply = message
	}
	signed, err := s.async.Sign(header, reply)
	if err != nil {
		return acked(corr, err)
	}
	if err := s.sealReread(r.Context(), w, rr, signed); err != nil {
		return acked(corr, err)
	}
	// Recorded above (X-Audit-Records is set): a refusal to store it is not recorded again.
	return s.accept(w, r, txn.Txn{CorrelationID: corr, Client: client, Sender: env.Header.SenderID,
		MessageID: env.Header.MessageID, TransactionID: env.Message.TransactionID, Registry: r.PathValue("registry"),
		Action: dci.ActionTxnStatus, Mode: txn.Async, Status: txn.Success, Request: body, Response: signed,
		CallbackURI: env.Header.SenderURI})
}

// txnStatus finds the transaction a status request names and describes it: its answer
// when it has one, else its items as received or pending. A transaction that cannot be
// found is answered with a header of status rjct (rjct.action.invalid) and a message
// under corr, the status request's correlation id, whose item is rejected
// (dci.UnknownTxnStatus); a way of naming one the hub does not support, with a header of
// status rjct and no message. A stored search answer is personal data handed out again: the
// read is decided like an exchange (rr, to seal before the answer is sent), and refused
// with a header of status rjct when the decision does not permit it. Any other status
// read is recorded too (rr: a status read, refused when the hub does not answer it).
func (s *Server) txnStatus(ctx context.Context, claims oauth.Claims, env *dci.Envelope[dci.TxnStatusRequest], request []byte, corr string) (h dci.CallbackHeader, _ *dci.TxnStatusResponse, rr *reread, _ error) {
	client := claims.ClientID
	read := func(refusal error, why string) *reread { return statusRead(claims, env, request, refusal, why) }
	h = dci.CallbackHeaderFor(env.Header, dci.ActionTxnOnStatus, newID(), outbound.SenderID, time.Now())
	q := env.Message.Request
	var t txn.Txn
	var err error
	switch q.AttributeType {
	case dci.AttrTransactionID, dci.AttrCorrelationID:
		t, err = s.async.Find(ctx, client, q.TxnType, q.AttributeType, q.Value)
	case dci.AttrSubscriptions:
		if q.TxnType != dci.ActionSubscribe {
			h.Status, h.StatusReasonCode = dci.StatusRejected, dci.RjctActionNotSupported
			h.StatusReasonMessage = "subscription_code_list names subscriptions: use txn_type subscribe"
			return h, nil, read(fault.Invalidf("txn_type", "%s", h.StatusReasonMessage), h.StatusReasonMessage), nil
		}
		status, err := s.subscriptionsStatus(ctx, client, env)
		if err != nil {
			return h, nil, nil, err
		}
		return h, &dci.TxnStatusResponse{TransactionID: env.Message.TransactionID, CorrelationID: newID(),
			Response: dci.TxnStatusReply{TxnType: q.TxnType, TxnStatus: status}}, read(nil, "the status of the application's subscriptions"), nil
	default:
		h.Status, h.StatusReasonCode = dci.StatusRejected, dci.RjctActionNotSupported
		h.StatusReasonMessage = "attribute_type " + q.AttributeType + " is not supported: name the transaction by transaction_id or correlation_id, or subscriptions by subscription_code_list"
		return h, nil, read(fault.Invalidf("attribute_type", "%s", h.StatusReasonMessage), h.StatusReasonMessage), nil
	}
	if fault.KindOf(err) == fault.NotFound {
		h.Status, h.StatusReasonCode = dci.StatusRejected, dci.RjctActionInvalid
		h.StatusReasonMessage = "no " + q.TxnType + " transaction " + q.AttributeType + " " + q.Value + " of this application"
		return h, dci.UnknownTxnStatus(env, corr, h.StatusReasonMessage, time.Now()), read(fault.NotFoundf("%s", h.StatusReasonMessage), h.StatusReasonMessage), nil
	}
	if err != nil {
		return h, nil, nil, err
	}
	if t.Action == dci.ActionSearch && t.Answered() && len(t.Response) > 0 {
		if rr, err = s.rereadSearch(claims, t, request, env.Header.MessageID); err != nil {
			return h, nil, nil, err
		}
		if rr.ans.Err != nil {
			h.Status, h.StatusReasonCode = dci.StatusRejected, ""
			h.StatusReasonMessage = "the stored answer is not handed out again: " + dci.SafeMessage(rr.ans.Err)
			return h, nil, rr, nil
		}
	}
	if rr == nil {
		rr = read(nil, "the status of the application's transaction "+t.CorrelationID)
	}
	status, err := txnState(t)
	if err != nil {
		return h, nil, nil, err
	}
	return h, &dci.TxnStatusResponse{TransactionID: env.Message.TransactionID, CorrelationID: t.CorrelationID,
		Response: dci.TxnStatusReply{TxnType: q.TxnType, TxnStatus: status}}, rr, nil
}

// statusRead is the record of a status read that hands out no stored answer: the
// caller's, about no person; refused with refusal when it is not nil.
func statusRead(claims oauth.Claims, env *dci.Envelope[dci.TxnStatusRequest], request []byte, refusal error, why string) *reread {
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: claims.ClientID, Institution: claims.Institution},
		Service: "dci:txn-status", Request: request, MessageID: env.Header.MessageID, Start: time.Now()}
	ans := exchange.Answer{Status: http.StatusOK, Decision: exchange.Decision{Permit: true, Code: "status", Reasons: []string{why}}}
	if refusal != nil {
		ans.Err, ans.Status = refusal, statusOf[fault.KindOf(refusal)]
		ans.Decision.Permit, ans.Decision.Code = false, fault.KindOf(refusal).String()
	}
	return &reread{ask: ask, ans: ans}
}

// txnState is a transaction's answer (the message of its callback), or, while it has
// none, its items with the transaction's status.
func txnState(t txn.Txn) (json.RawMessage, error) {
	if t.Answered() && len(t.Response) > 0 {
		var env struct {
			Message json.RawMessage `json:"message"`
		}
		if err := json.Unmarshal(t.Response, &env); err != nil {
			return nil, fault.Wrap(err, "read a stored answer")
		}
		return env.Message, nil
	}
	status := t.Status
	if status != txn.Received {
		status = txn.Pending
	}
	switch t.Action {
	case dci.ActionSubscribe:
		req, err := dci.DecodeSubscribe(t.Request)
		if err != nil {
			return nil, fault.Wrap(err, "read a stored request")
		}
		items := make([]dci.SubscribeResponseItem, len(req.Message.Items))
		for i, it := range req.Message.Items {
			items[i] = dci.SubscribeResponseItem{ReferenceID: it.ReferenceID, Timestamp: dci.Timestamp(t.Updated), Status: status}
		}
		return json.Marshal(dci.SubscribeResponse{TransactionID: t.TransactionID, CorrelationID: t.CorrelationID, Items: items})
	case dci.ActionUnsubscribe:
		return json.Marshal(dci.UnsubscribeResponse{TransactionID: t.TransactionID, CorrelationID: t.CorrelationID,
			Timestamp: dci.Timestamp(t.Updated), Status: status, SubscriptionStatus: []dci.SubscriptionStatus{}})
	}
	req, err := dci.DecodeSearch(t.Request)
	if err != nil {
		return nil, fault.Wrap(err, "read a stored request")
	}
	items := make([]dci.SearchResponseItem, len(req.Message.SearchRequest))
	for i, it := range req.Message.SearchRequest {
		items[i] = dci.SearchResponseItem{ReferenceID: it.ReferenceID, Timestamp: dci.Timestamp(t.Updated), Status: status}
	}
	return json.Marshal(dci.SearchResponse{TransactionID: t.TransactionID, CorrelationID: t.CorrelationID, SearchResponse: items})
}
