package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/answer"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/txn"
)

// Subscriptions through DCI: subscribe and unsubscribe are asynchronous calls, stored as
// transactions and answered by the worker (internal/answer); a status request by
// subscription codes is answered here, at once.

// asyncSubscribe serves {prefix}/{registry}/registry/subscribe.
func (s *Server) asyncSubscribe(w http.ResponseWriter, r *http.Request) error {
	return s.acceptAsync(w, r, dci.ActionSubscribe, func(body []byte) (dci.MsgHeader, string, string, json.RawMessage, json.RawMessage, error) {
		env, err := dci.DecodeSubscribe(body)
		if err != nil {
			return dci.MsgHeader{}, "", "", nil, nil, err
		}
		return env.Header, env.Message.TransactionID, env.Signature, env.RawHeader, env.RawMessage, nil
	})
}

// asyncUnsubscribe serves {prefix}/{registry}/registry/unsubscribe.
func (s *Server) asyncUnsubscribe(w http.ResponseWriter, r *http.Request) error {
	return s.acceptAsync(w, r, dci.ActionUnsubscribe, func(body []byte) (dci.MsgHeader, string, string, json.RawMessage, json.RawMessage, error) {
		env, err := dci.DecodeUnsubscribe(body)
		if err != nil {
			return dci.MsgHeader{}, "", "", nil, nil, err
		}
		return env.Header, env.Message.TransactionID, env.Signature, env.RawHeader, env.RawMessage, nil
	})
}

// acceptAsync checks an asynchronous request other than search (token with scope
// registry.subscribe, message, signature) and stores it as a transaction.
func (s *Server) acceptAsync(w http.ResponseWriter, r *http.Request, action string,
	decode func([]byte) (h dci.MsgHeader, transactionID, signature string, rawHeader, rawMessage json.RawMessage, err error)) error {
	corr := newID()
	reg := r.PathValue("registry")
	claims, body, err := s.readAsync(w, r, "registry.subscribe", "dci:"+reg, corr)
	if err != nil {
		return err
	}
	h, tx, sig, rh, rm, err := decode(body)
	if err != nil {
		return rejected(claims, "dci:"+reg, body, acked(corr, err))
	}
	if err := s.checkSignature(r.Context(), claims.ClientID, sig, rh, rm); err != nil {
		return refused(claims.ClientID, "dci:"+reg, body, err)
	}
	return rejected(claims, "dci:"+reg, body, s.accept(w, r, txn.Txn{CorrelationID: corr, Client: claims.ClientID, Sender: h.SenderID, MessageID: h.MessageID,
		TransactionID: tx, Registry: reg, Action: action, Mode: txn.Async, Status: txn.Received, Request: body, CallbackURI: h.SenderURI}))
}

// readAsync checks the registry of the path and the bearer token (with scope; refusals
// recorded under service), and reads a JSON body. An asynchronous call's problems with
// the message are answered ACK ERR under corr, and recorded.
func (s *Server) readAsync(w http.ResponseWriter, r *http.Request, scope, service, corr string) (claims oauth.Claims, body []byte, err error) {
	reg := r.PathValue("registry")
	if _, ok := registries[reg]; !ok {
		return claims, nil, dci.Coded(fault.NotFound, dci.ErrNotFound, "path", "no registry "+reg)
	}
	if claims, err = s.bearer(r, scope); err != nil {
		return claims, nil, refused(claims.ClientID, service, nil, err)
	}
	body, err = readBody(w, r)
	return claims, body, rejected(claims, service, body, acked(corr, err))
}

// subscriptionsStatus answers a status request by subscription codes: the institution's
// subscriptions among them, as a subscribe answer.
func (s *Server) subscriptionsStatus(ctx context.Context, client string, env *dci.Envelope[dci.TxnStatusRequest]) (json.RawMessage, error) {
	e, err := s.signerOf(ctx, client)
	if err != nil {
		return nil, err
	}
	ts := dci.Timestamp(time.Now())
	q := env.Message.Request
	item := dci.SubscribeResponseItem{ReferenceID: q.ReferenceID, Timestamp: ts, Status: dci.StatusSuccess, Locale: q.Locale}
	var unknown []string
	for _, code := range q.Values {
		sub, _, err := directory.Get[directory.Subscription](ctx, s.dir, code)
		if err != nil || sub.Institution != e.institution {
			if err != nil && fault.KindOf(err) != fault.NotFound {
				return nil, err
			}
			unknown = append(unknown, code)
			continue
		}
		item.Subscriptions = append(item.Subscriptions, answer.SubscriptionInfo(sub, "", ts, q.Locale))
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		item.StatusReasonMessage = "unknown codes: " + strings.Join(unknown, ", ")
		if len(item.Subscriptions) == 0 {
			item.Status = dci.StatusRejected
		}
	}
	return json.Marshal(dci.SubscribeResponse{TransactionID: env.Message.TransactionID, CorrelationID: newID(), Items: []dci.SubscribeResponseItem{item}})
}

// readBody reads a DCI message: JSON (else 415 naming Content-Type) of at most 1 MiB
// (else 413), in one allocation when its length is announced.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if err := needContentType(r, "application/json"); err != nil {
		return nil, fault.Unsupportedf("Content-Type", "must be application/json")
	}
	if n := r.ContentLength; n > 0 && n <= maxDCIBody {
		body := make([]byte, n)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			return nil, dci.Coded(fault.Invalid, dci.ErrRequestBad, "body", "the message was cut off")
		}
		return body, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDCIBody))
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &mb):
		return nil, dci.Coded(fault.TooLarge, dci.ErrRequestBad, "body", "the message is larger than 1 MiB")
	case err != nil:
		return nil, dci.Coded(fault.Invalid, dci.ErrRequestBad, "body", "the message was cut off")
	}
	return body, nil
}
