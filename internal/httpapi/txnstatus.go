package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/txn"
)

// Transaction status. An application sees only its own transactions; one named by an id
// it does not own is answered as one that does not exist.

// readTxnStatus authenticates and decodes a status request.
func (s *Server) readTxnStatus(w http.ResponseWriter, r *http.Request) (string, []byte, *dci.Envelope[dci.TxnStatusRequest], error) {
	claims, err := s.bearer(r, "registry.txn_status", "registry.search", "registry.subscribe")
	if err != nil {
		return "", nil, nil, err
	}
	if err := needContentType(r, "application/json"); err != nil {
		return "", nil, nil, err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDCIBody))
	if err != nil {
		return "", nil, nil, dci.Coded(fault.Invalid, dci.ErrRequestBad, "body", "the message is larger than 1 MiB")
	}
	env, err := dci.DecodeTxnStatus(body)
	if err != nil {
		return "", nil, nil, err
	}
	if err := s.checkSignature(r.Context(), claims.ClientID, env.Signature, env.RawHeader, env.RawMessage); err != nil {
		return "", nil, nil, err
	}
	return claims.ClientID, body, env, nil
}

// syncTxnStatus serves {prefix}/{registry}/registry/sync/txn/status.
func (s *Server) syncTxnStatus(w http.ResponseWriter, r *http.Request) {
	client, _, env, err := s.readTxnStatus(w, r)
	if err != nil {
		s.dciError(w, r, err)
		return
	}
	header, message, err := s.txnStatus(r.Context(), client, env)
	if err != nil {
		s.dciError(w, r, err)
		return
	}
	var answer any // left out when there is no message
	if message != nil {
		answer = message
	}
	body, err := json.Marshal(struct {
		Header  dci.CallbackHeader `json:"header"`
		Message any                `json:"message,omitempty"`
	}{header, answer})
	if err != nil {
		s.dciError(w, r, fault.Wrap(err, "encode answer"))
		return
	}
	writeRaw(w, http.StatusOK, body)
}

// asyncTxnStatus serves {prefix}/{registry}/registry/txn/status: the answer is made at
// once, stored, and delivered to sender_uri as txn/on-status by the worker.
func (s *Server) asyncTxnStatus(w http.ResponseWriter, r *http.Request) {
	corr := newID()
	client, body, env, err := s.readTxnStatus(w, r)
	if err != nil {
		if fault.KindOf(err) == fault.Unauthorized || fault.KindOf(err) == fault.Forbidden {
			s.dciError(w, r, err)
			return
		}
		s.ackError(w, r, err, corr)
		return
	}
	if _, err := s.callbackTo(r.Context(), client, env.Header.SenderURI); err != nil {
		s.ackError(w, r, err, corr)
		return
	}
	header, message, err := s.txnStatus(r.Context(), client, env)
	if err != nil {
		s.ackError(w, r, err, corr)
		return
	}
	var answer any
	if message != nil {
		answer = message
	}
	signed, err := s.signed(header, answer)
	if err != nil {
		s.ackError(w, r, err, corr)
		return
	}
	s.accept(w, r, txn.Txn{CorrelationID: corr, Client: client, Sender: env.Header.SenderID,
		MessageID: env.Header.MessageID, TransactionID: env.Message.TransactionID, Registry: r.PathValue("registry"),
		Action: dci.ActionTxnStatus, Mode: txn.Async, Status: txn.Success, Request: body, Response: signed,
		CallbackURI: env.Header.SenderURI})
}

// txnStatus finds the transaction a status request names and describes it: its answer
// when it has one, else its items as received or pending. A transaction that cannot be
// found, or a way of naming one the hub does not support, gives a header with status
// rjct and no message.
func (s *Server) txnStatus(ctx context.Context, client string, env *dci.Envelope[dci.TxnStatusRequest]) (dci.CallbackHeader, *dci.TxnStatusResponse, error) {
	h := dci.CallbackHeaderFor(env.Header, dci.ActionTxnOnStatus, newID(), hubSenderID, time.Now())
	q := env.Message.Request
	var t txn.Txn
	var err error
	switch q.AttributeType {
	case dci.AttrTransactionID:
		t, err = s.txns.ByTransaction(ctx, client, q.TxnType, q.Value)
	case dci.AttrCorrelationID:
		t, err = s.txns.Get(ctx, q.Value)
		if err == nil && (t.Client != client || t.Action != q.TxnType) {
			err = fault.NotFoundf("no such transaction")
		}
	case dci.AttrSubscriptions:
		if q.TxnType != dci.ActionSubscribe {
			h.Status, h.StatusReasonCode = dci.StatusRejected, dci.RjctActionNotSupported
			h.StatusReasonMessage = "subscription_code_list names subscriptions: use txn_type subscribe"
			return h, nil, nil
		}
		status, err := s.subscriptionsStatus(ctx, client, env)
		if err != nil {
			return h, nil, err
		}
		return h, &dci.TxnStatusResponse{TransactionID: env.Message.TransactionID, CorrelationID: newID(),
			Response: dci.TxnStatusReply{TxnType: q.TxnType, TxnStatus: status}}, nil
	default:
		h.Status, h.StatusReasonCode = dci.StatusRejected, dci.RjctActionNotSupported
		h.StatusReasonMessage = "attribute_type " + q.AttributeType + " is not supported: name the transaction by transaction_id or correlation_id, or subscriptions by subscription_code_list"
		return h, nil, nil
	}
	if fault.KindOf(err) == fault.NotFound {
		h.Status, h.StatusReasonMessage = dci.StatusRejected, "no "+q.TxnType+" transaction "+q.AttributeType+" "+q.Value+" of this application"
		return h, nil, nil
	}
	if err != nil {
		return h, nil, err
	}
	status, err := txnState(t)
	if err != nil {
		return h, nil, err
	}
	return h, &dci.TxnStatusResponse{TransactionID: env.Message.TransactionID, CorrelationID: t.CorrelationID,
		Response: dci.TxnStatusReply{TxnType: q.TxnType, TxnStatus: status}}, nil
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
