package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/txn"
)

// Subscriptions through DCI. subscribe and unsubscribe are asynchronous, as the standard
// has them: ACK, then on-subscribe / on-unsubscribe to sender_uri. A subscription is a
// record of the directory's subscription table (its id the code the hub issues), so the
// hub's event delivery, its history and the admin API see it like any other. Subscribing
// needs an authorization in force for the registry's service, as a search does; the
// subscription keeps its capacities, so that only events about persons the institution
// has a file on in those capacities are notified. Every item is recorded in the audit log.

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
		return acked(corr, err)
	}
	if err := s.checkSignature(r.Context(), claims.ClientID, sig, rh, rm); err != nil {
		return refused(claims.ClientID, "dci:"+reg, body, err)
	}
	return s.accept(w, r, txn.Txn{CorrelationID: corr, Client: claims.ClientID, Sender: h.SenderID, MessageID: h.MessageID,
		TransactionID: tx, Registry: reg, Action: action, Mode: txn.Async, Status: txn.Received, Request: body, CallbackURI: h.SenderURI})
}

// readAsync checks the registry of the path and the bearer token (with scope; refusals
// recorded under service), and reads a JSON body. An asynchronous call's problems with
// the message are answered ACK ERR under corr.
func (s *Server) readAsync(w http.ResponseWriter, r *http.Request, scope, service, corr string) (claims oauth.Claims, body []byte, err error) {
	reg := r.PathValue("registry")
	if _, ok := registries[reg]; !ok {
		return claims, nil, dci.Coded(fault.NotFound, dci.ErrNotFound, "path", "no registry "+reg)
	}
	if claims, err = s.bearer(r, scope); err != nil {
		return claims, nil, refused(claims.ClientID, service, nil, err)
	}
	body, err = readBody(w, r)
	return claims, body, acked(corr, err)
}

// answerSubscribe creates the subscriptions of a stored subscribe request.
func (s *Server) answerSubscribe(ctx context.Context, t txn.Txn, caller exchange.Caller) (header, message any, err error) {
	env, err := dci.DecodeSubscribe(t.Request)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	ts := dci.Timestamp(now)
	service := s.serviceFor(registries[t.Registry], env.Header.ReceiverID)
	resp := dci.SubscribeResponse{TransactionID: env.Message.TransactionID, CorrelationID: t.CorrelationID}
	for _, it := range env.Message.Items {
		item := dci.SubscribeResponseItem{ReferenceID: it.ReferenceID, Timestamp: ts, Status: dci.StatusSuccess, Locale: it.Locale}
		ask := exchange.Ask{Caller: caller, Service: service, Purpose: "subscribe", Request: t.Request, Start: now}
		ans := exchange.Answer{Status: http.StatusOK}
		d := s.exchange.Policy().Decide(exchange.Question{Institution: caller.Institution, Service: service, Day: s.dir.Today()})
		switch {
		case it.Err != nil:
			item.Status, item.StatusReasonCode, item.StatusReasonMessage = dci.StatusRejected, dci.SubscribeReasonOf(it.Err), dci.SafeMessage(it.Err)
			ans = exchange.Answer{Err: it.Err, Status: http.StatusBadRequest, Decision: exchange.Decision{Code: exchange.DenyInvalid, Reasons: []string{dci.SafeMessage(it.Err)}}}
		case !d.Permit:
			item.Status, item.StatusReasonMessage = dci.StatusRejected, "not authorized: "+strings.Join(d.Reasons, "; ")
			ans = exchange.Answer{Err: fault.Forbiddenf("%s", item.StatusReasonMessage), Status: http.StatusForbidden, Decision: d}
		default:
			c := it.Criteria
			sub := directory.Subscription{ID: newCode(), Institution: caller.Institution, EventTypes: []string{dci.EventType(c.RegEventType)},
				Capacities: d.Capacities, Endpoint: t.CallbackURI, Mode: directory.ModePush, Registry: t.Registry, Application: t.Client,
				Filter: c.Filter, FilterType: c.FilterType, RecordType: c.NotifyRecordType, Frequency: c.Frequency, Status: directory.SubscriptionActive}
			if _, _, err := directory.Put(ctx, s.dir, t.Client, sub, directory.MustCreate); err != nil {
				return nil, nil, err
			}
			item.Subscriptions = []dci.SubscriptionInfo{subscriptionInfo(sub, c.RegEventType, ts, it.Locale)}
			ans.Decision = d
			ans.Decision.Reasons = append(ans.Decision.Reasons, "subscription "+sub.ID+" created")
		}
		resp.Items = append(resp.Items, item)
		body, _ := json.Marshal(item)
		if _, err := s.exchange.Seal(ctx, ask, ans, body); err != nil {
			return nil, nil, err
		}
	}
	return replyHeader(env.Header, dci.ActionOnSubscribe, len(resp.Items)), resp, nil
}

// answerUnsubscribe cancels the subscriptions of a stored unsubscribe request: all of
// them, or, when one is unknown or another institution's, none.
func (s *Server) answerUnsubscribe(ctx context.Context, t txn.Txn, caller exchange.Caller) (header, message any, err error) {
	env, err := dci.DecodeUnsubscribe(t.Request)
	if err != nil {
		return nil, nil, err
	}
	resp := dci.UnsubscribeResponse{TransactionID: env.Message.TransactionID, CorrelationID: t.CorrelationID,
		Timestamp: dci.Timestamp(time.Now()), Status: dci.StatusSuccess, SubscriptionStatus: []dci.SubscriptionStatus{}}
	subs := make([]directory.Subscription, 0, len(env.Message.Codes))
	var unknown []string
	for _, code := range env.Message.Codes {
		sub, _, err := directory.Get[directory.Subscription](ctx, s.dir, code)
		switch {
		case fault.KindOf(err) == fault.NotFound || (err == nil && sub.Institution != caller.Institution):
			unknown = append(unknown, code)
		case err != nil:
			return nil, nil, err
		default:
			subs = append(subs, sub)
		}
	}
	ans := exchange.Answer{Status: http.StatusOK, Decision: exchange.Decision{Permit: true, Reasons: []string{"subscriptions " + strings.Join(env.Message.Codes, ", ") + " cancelled"}}}
	if len(unknown) > 0 {
		resp.Status, resp.StatusReasonCode = dci.StatusRejected, dci.RjctSubscriptionCodeInvalid
		resp.StatusReasonMessage = "no subscription of " + caller.Institution + " has the code " + strings.Join(unknown, ", ") + "; none was cancelled"
		ans = exchange.Answer{Err: fault.NotFoundf("%s", resp.StatusReasonMessage), Status: http.StatusNotFound,
			Decision: exchange.Decision{Code: exchange.DenyInvalid, Reasons: []string{resp.StatusReasonMessage}}}
	} else {
		for _, sub := range subs {
			if sub.Active() {
				sub.Status = directory.SubscriptionCancelled
				if _, _, err := directory.Put(ctx, s.dir, t.Client, sub, directory.AnyVersion); err != nil {
					return nil, nil, err
				}
			}
			resp.SubscriptionStatus = append(resp.SubscriptionStatus, dci.SubscriptionStatus{Code: sub.ID, Status: directory.SubscriptionCancelled})
		}
	}
	body, _ := json.Marshal(resp)
	ask := exchange.Ask{Caller: caller, Service: "dci:" + t.Registry, Purpose: "unsubscribe", Request: t.Request, Start: time.Now()}
	if _, err := s.exchange.Seal(ctx, ask, ans, body); err != nil {
		return nil, nil, err
	}
	return replyHeader(env.Header, dci.ActionOnUnsubscribe, len(env.Message.Codes)), resp, nil
}

// replyHeader is the header of on-subscribe and on-unsubscribe. Most registries' documents
// give them a request header (MsgHeader: sender_id and total_count required), the FR
// document gives on-subscribe a callback header (status required): the header carries
// the members of both, so that it is valid against every registry's document.
func replyHeader(req dci.MsgHeader, action string, count int) dci.CallbackHeader {
	return dci.CallbackHeader{Version: dci.Version, MessageID: newID(), MessageTS: dci.Timestamp(time.Now()), Action: action,
		Status: dci.StatusSuccess, SenderID: hubSenderID, ReceiverID: req.SenderID, TotalCount: dci.Count(count), CompletedCount: dci.Count(count)}
}

// subscriptionInfo describes sub as the standard does; regEventType is the spelling the
// partner used, when known.
func subscriptionInfo(sub directory.Subscription, regEventType, ts, locale string) dci.SubscriptionInfo {
	if regEventType == "" && len(sub.EventTypes) > 0 {
		regEventType = sub.EventTypes[0]
	}
	status := dci.SubscriptionActive
	if !sub.Active() {
		status = dci.SubscriptionCancelled
	}
	return dci.SubscriptionInfo{Version: dci.Version, Code: sub.ID, Status: status, Timestamp: ts,
		RegType: registryType(sub.Registry), RegEventType: regEventType, Frequency: sub.Frequency,
		FilterType: sub.FilterType, Filter: sub.Filter, NotifyRecordType: sub.RecordType, Locale: locale}
}

func registryType(reg string) string {
	return dci.RegistryType(registries[reg])
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
		item.Subscriptions = append(item.Subscriptions, subscriptionInfo(sub, "", ts, q.Locale))
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

// newCode issues a subscription code.
func newCode() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "sub-" + hex.EncodeToString(b[:])
}
