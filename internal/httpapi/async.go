package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/crossroads-hub/crossroads/internal/answer"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/txn"
)

// Asynchronous DCI calls: the request is checked as a sync one is (token, message,
// signature) and handed to the worker (answer.Worker.Accept), which stores it as a
// transaction before the ACK, answers it and delivers the callback.

// callbackBackoff is the wait before delivering a callback again: 1 s doubled after
// each failure, up to 15 min (no jitter: the worker polls every asyncPoll anyway).
var callbackBackoff = outbound.Backoff{First: time.Second, Max: 15 * time.Minute}

// ack answers an asynchronous request.
func (s *Server) ack(w http.ResponseWriter, status int, a dci.Ack) {
	body, _ := json.Marshal(a)
	writeRaw(w, status, body)
}

// callbackTo checks uri against the application's registered callback URLs
// (answer.CallbackTo) and returns the URL to post to.
func (s *Server) callbackTo(ctx context.Context, client, uri string) (string, error) {
	e, err := s.signerOf(ctx, client)
	if err != nil {
		return "", err
	}
	return answer.CallbackTo(e.callbacks, uri)
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
		return rejected(claims, "dci:"+reg, body, acked(corr, err))
	}
	if err := s.checkSignature(r.Context(), claims.ClientID, env.Signature, env.RawHeader, env.RawMessage); err != nil {
		return refused(claims.ClientID, "dci:"+reg, body, err)
	}
	return rejected(claims, "dci:"+reg, body, s.accept(w, r, txn.Txn{CorrelationID: corr, Client: claims.ClientID, Sender: env.Header.SenderID,
		MessageID: env.Header.MessageID, TransactionID: env.Message.TransactionID, Registry: reg,
		Action: dci.ActionSearch, Mode: txn.Async, Status: txn.Received, Request: body, CallbackURI: env.Header.SenderURI}))
}

// accept has the worker store an asynchronous transaction and acknowledges it (a
// repeated search: under the first one's correlation id), or returns the refusal to
// answer ACK ERR (a sender_uri refused or missing, a repeated message id), for the caller
// to mark rejected (recorded) unless the request was recorded already.
func (s *Server) accept(w http.ResponseWriter, r *http.Request, t txn.Txn) error {
	e, err := s.signerOf(r.Context(), t.Client)
	if err != nil {
		return acked(t.CorrelationID, err)
	}
	corr, err := s.async.Accept(r.Context(), t, e.callbacks)
	if err != nil {
		return acked(corr, err)
	}
	s.ack(w, http.StatusAccepted, dci.NewAck(corr, time.Now()))
	return nil
}
