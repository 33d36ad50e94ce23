package answer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/txn"
)

// Subscriptions through DCI. subscribe and unsubscribe are asynchronous, as the standard
// has them: ACK, then on-subscribe / on-unsubscribe to sender_uri. A subscription is a
// record of the directory's subscription table (its id the code the hub issues), so the
// hub's event delivery, its history and the admin API see it like any other. Subscribing
// needs an authorization in force for the registry's service, as a search does; the
// subscription keeps its capacities, so that only events about persons the institution
// has a file on in those capacities are notified. Every item is recorded in the audit log.

// subscribe creates the subscriptions of a stored subscribe request.
func (w *Worker) subscribe(ctx context.Context, t txn.Txn, caller exchange.Caller) (header, message any, err error) {
	env, err := dci.DecodeSubscribe(t.Request)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	ts := dci.Timestamp(now)
	service := w.ServiceFor(Registries[t.Registry], env.Header.ReceiverID)
	resp := dci.SubscribeResponse{TransactionID: env.Message.TransactionID, CorrelationID: t.CorrelationID}
	for _, it := range env.Message.Items {
		item := dci.SubscribeResponseItem{ReferenceID: it.ReferenceID, Timestamp: ts, Status: dci.StatusSuccess, Locale: it.Locale}
		ask := exchange.Ask{Caller: caller, Service: service, Purpose: "subscribe", Request: t.Request, Start: now}
		ans := exchange.Answer{Status: http.StatusOK}
		d := w.Exchange.Policy().Decide(exchange.Question{Institution: caller.Institution, Service: service, Day: w.Directory.Today()})
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
			if _, _, err := directory.Put(ctx, w.Directory, t.Client, sub, directory.MustCreate); err != nil {
				return nil, nil, err
			}
			item.Subscriptions = []dci.SubscriptionInfo{SubscriptionInfo(sub, c.RegEventType, ts, it.Locale)}
			ans.Decision = d
			ans.Decision.Reasons = append(ans.Decision.Reasons, "subscription "+sub.ID+" created")
		}
		resp.Items = append(resp.Items, item)
		body, _ := json.Marshal(item)
		if _, err := w.Exchange.Seal(ctx, ask, ans, body); err != nil {
			return nil, nil, err
		}
	}
	return replyHeader(env.Header, dci.ActionOnSubscribe, len(resp.Items)), resp, nil
}

// unsubscribe cancels the subscriptions of a stored unsubscribe request: all of
// them, or, when one is unknown or another institution's, none.
func (w *Worker) unsubscribe(ctx context.Context, t txn.Txn, caller exchange.Caller) (header, message any, err error) {
	env, err := dci.DecodeUnsubscribe(t.Request)
	if err != nil {
		return nil, nil, err
	}
	resp := dci.UnsubscribeResponse{TransactionID: env.Message.TransactionID, CorrelationID: t.CorrelationID,
		Timestamp: dci.Timestamp(time.Now()), Status: dci.StatusSuccess, SubscriptionStatus: []dci.SubscriptionStatus{}}
	subs := make([]directory.Subscription, 0, len(env.Message.Codes))
	var unknown []string
	for _, code := range env.Message.Codes {
		sub, _, err := directory.Get[directory.Subscription](ctx, w.Directory, code)
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
				if _, _, err := directory.Put(ctx, w.Directory, t.Client, sub, directory.AnyVersion); err != nil {
					return nil, nil, err
				}
			}
			resp.SubscriptionStatus = append(resp.SubscriptionStatus, dci.SubscriptionStatus{Code: sub.ID, Status: directory.SubscriptionCancelled})
		}
	}
	body, _ := json.Marshal(resp)
	ask := exchange.Ask{Caller: caller, Service: "dci:" + t.Registry, Purpose: "unsubscribe", Request: t.Request, Start: time.Now()}
	if _, err := w.Exchange.Seal(ctx, ask, ans, body); err != nil {
		return nil, nil, err
	}
	return replyHeader(env.Header, dci.ActionOnUnsubscribe, len(env.Message.Codes)), resp, nil
}

// replyHeader is the header of on-subscribe and on-unsubscribe. Most registries' documents
// give them a request header (MsgHeader: sender_id and total_count required), the FR
// document gives on-subscribe a callback header (status required): the header carries
// the members of both, so that it is valid against every registry's document.
func replyHeader(req dci.MsgHeader, action string, count int) dci.CallbackHeader {
	return dci.CallbackHeader{Version: dci.Version, MessageID: NewID(), MessageTS: dci.Timestamp(time.Now()), Action: action,
		Status: dci.StatusSuccess, SenderID: outbound.SenderID, ReceiverID: req.SenderID, TotalCount: dci.Count(count), CompletedCount: dci.Count(count)}
}

// SubscriptionInfo describes sub as the standard does; regEventType is the spelling the
// partner used, when known.
func SubscriptionInfo(sub directory.Subscription, regEventType, ts, locale string) dci.SubscriptionInfo {
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
	return dci.RegistryOf(Registries[reg]).Type
}

// newCode issues a subscription code.
func newCode() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "sub-" + hex.EncodeToString(b[:])
}
