package dci

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Actions of the transaction status exchange.
const (
	ActionTxnStatus   = "txn-status"
	ActionTxnOnStatus = "txn-on-status"
)

// Attribute types a status request names its transaction by.
const (
	AttrTransactionID = "transaction_id"
	AttrCorrelationID = "correlation_id"
	AttrReferenceIDs  = "reference_id_list"
	AttrSubscriptions = "subscription_code_list"
)

// TxnStatusRequest is the message of txn/status and sync/txn/status.
type TxnStatusRequest struct {
	TransactionID string        `json:"transaction_id"`
	Request       TxnStatusItem `json:"txnstatus_request"`
}

// TxnStatusItem asks the status of one transaction: of type TxnType (search, subscribe,
// unsubscribe), named by AttributeType. Value is the id for transaction_id and
// correlation_id; Values the list for reference_id_list and subscription_code_list.
type TxnStatusItem struct {
	ReferenceID   string   `json:"reference_id"`
	TxnType       string   `json:"txn_type"`
	AttributeType string   `json:"attribute_type"`
	Value         string   `json:"-"`
	Values        []string `json:"-"`
	Locale        string   `json:"locale,omitempty"`
}

// TxnStatusResponse is the message of the answer: the transaction's own answer, or, while
// it is not answered yet, its items with status rcvd or pdng.
type TxnStatusResponse struct {
	TransactionID string         `json:"transaction_id"`
	CorrelationID string         `json:"correlation_id"`
	Response      TxnStatusReply `json:"txnstatus_response"`
}

// TxnStatusReply is txnstatus_response.
type TxnStatusReply struct {
	TxnType   string          `json:"txn_type"`
	TxnStatus json.RawMessage `json:"txn_status"`
}

// DecodeTxnStatus reads a txn/status or sync/txn/status request, with the checks of
// DecodeSearch for the envelope and header.
func DecodeTxnStatus(body []byte) (*Envelope[TxnStatusRequest], error) {
	raw, h, err := decodeEnvelope(body, ActionTxnStatus)
	if err != nil {
		return nil, err
	}
	m := fields(raw.Message)
	var msg TxnStatusRequest
	if msg.TransactionID, err = str(m, "transaction_id"); err != nil || !validID(msg.TransactionID) {
		return nil, bad("message.transaction_id", fmt.Sprintf("is required: 1 to %d characters", MaxID))
	}
	r := fields(m["txnstatus_request"])
	if r == nil {
		return nil, bad("message.txnstatus_request", "is required and must be an object")
	}
	it := &msg.Request
	for _, f := range []struct {
		name string
		dst  *string
	}{{"reference_id", &it.ReferenceID}, {"txn_type", &it.TxnType}, {"attribute_type", &it.AttributeType}, {"locale", &it.Locale}} {
		if *f.dst, err = str(r, f.name); err != nil {
			return nil, bad("message.txnstatus_request."+f.name, "must be a string")
		}
	}
	switch {
	case !validID(it.ReferenceID):
		return nil, bad("message.txnstatus_request.reference_id", fmt.Sprintf("is required: 1 to %d characters", MaxID))
	case !slices.Contains([]string{"search", "subscribe", "unsubscribe"}, it.TxnType):
		return nil, bad("message.txnstatus_request.txn_type", "must be search, subscribe or unsubscribe")
	case it.Locale != "" && !validLocale(it.Locale):
		return nil, bad("message.txnstatus_request.locale", "must be an ISO 639-3 code in lower case, such as eng")
	}
	v := r["attribute_value"]
	switch it.AttributeType {
	case AttrTransactionID, AttrCorrelationID:
		if it.Value, err = str(r, "attribute_value"); err != nil || !validID(it.Value) {
			return nil, bad("message.txnstatus_request.attribute_value", fmt.Sprintf("must be an id of 1 to %d characters", MaxID))
		}
	case AttrReferenceIDs, AttrSubscriptions:
		list, ok := elements(v)
		if !ok || len(list) == 0 || len(list) > MaxSearchItems {
			return nil, bad("message.txnstatus_request.attribute_value", fmt.Sprintf("must be a list of 1 to %d ids", MaxSearchItems))
		}
		for i, e := range list {
			s, ok := unquote(e)
			if !ok || !validID(s) {
				return nil, bad(fmt.Sprintf("message.txnstatus_request.attribute_value[%d]", i), fmt.Sprintf("must be an id of 1 to %d characters", MaxID))
			}
			it.Values = append(it.Values, s)
		}
	default:
		return nil, bad("message.txnstatus_request.attribute_type", "must be transaction_id, correlation_id, reference_id_list or subscription_code_list")
	}
	return &Envelope[TxnStatusRequest]{Signature: raw.Signature, Header: h, Message: msg, RawHeader: raw.Header, RawMessage: raw.Message}, nil
}

// CallbackHeaderFor is the header of an answer to req: action, status succ, the hub as
// sender, the requester as receiver, one item.
func CallbackHeaderFor(req MsgHeader, action, messageID, senderID string, now time.Time) CallbackHeader {
	return CallbackHeader{Version: Version, MessageID: messageID, MessageTS: Timestamp(now), Action: action,
		Status: StatusSuccess, TotalCount: 1, CompletedCount: 1, SenderID: senderID, ReceiverID: req.SenderID}
}

// UnknownTxnStatus answers a status request that names no transaction of the caller. The
// message carries the request's transaction_id and correlationID (the ACK's, for an
// asynchronous request), so the caller can tie it to its request, and txn_status a
// rejected item of txn_type's shape under the request's reference_id. Its reason is
// rjct.reference_id.invalid, the one reason the search, subscribe and unsubscribe
// enums share that fits: the item names nothing the caller may see. (The header's enum
// has no such reason; the hub's header says rjct with rjct.action.invalid.)
func UnknownTxnStatus(req *Envelope[TxnStatusRequest], correlationID, why string, now time.Time) *TxnStatusResponse {
	q := req.Message.Request
	ts := Timestamp(now)
	why = truncate(why, maxMessage)
	var status any
	switch q.TxnType {
	case ActionSubscribe:
		status = SubscribeResponse{TransactionID: req.Message.TransactionID, CorrelationID: correlationID,
			Items: []SubscribeResponseItem{{ReferenceID: q.ReferenceID, Timestamp: ts, Status: StatusRejected,
				StatusReasonCode: RjctReferenceIDInvalid, StatusReasonMessage: why, Locale: q.Locale}}}
	case ActionUnsubscribe:
		status = UnsubscribeResponse{TransactionID: req.Message.TransactionID, CorrelationID: correlationID, Timestamp: ts,
			Status: StatusRejected, StatusReasonCode: RjctReferenceIDInvalid, StatusReasonMessage: why, SubscriptionStatus: []SubscriptionStatus{}}
	default:
		status = SearchResponse{TransactionID: req.Message.TransactionID, CorrelationID: correlationID,
			SearchResponse: []SearchResponseItem{{ReferenceID: q.ReferenceID, Timestamp: ts, Status: StatusRejected,
				StatusReasonCode: RjctReferenceIDInvalid, StatusReasonMessage: why, Locale: q.Locale}}}
	}
	b, _ := json.Marshal(status) // plain structs: cannot fail
	return &TxnStatusResponse{TransactionID: req.Message.TransactionID, CorrelationID: correlationID,
		Response: TxnStatusReply{TxnType: q.TxnType, TxnStatus: b}}
}
