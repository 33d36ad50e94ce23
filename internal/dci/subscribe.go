package dci

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Actions of the subscription exchange.
const (
	ActionSubscribe     = "subscribe"
	ActionOnSubscribe   = "on-subscribe"
	ActionUnsubscribe   = "unsubscribe"
	ActionOnUnsubscribe = "on-unsubscribe"
	ActionNotify        = "notify"
)

// Subscription statuses (SubscriptionInfo.status).
const (
	SubscriptionActive    = "subscribe"
	SubscriptionCancelled = "unsubscribe"
)

// Reasons a subscription item is rejected (SubscribeStatusReasonCode) or an unsubscribe
// refused (UnSubscribeStatusReasonCode).
const (
	RjctNotifyTypesInvalid       = "rjct.notify_types.invalid"
	RjctNotifyDetailsInvalid     = "rjct.notify_details.invalid"
	RjctSubscriptionCodeInvalid  = "rjct.subscription_code.invalid"
	RjctEventAlreadyUnsubscribed = "rjct.event.already_unsubscribed"
)

// subscribeReasons is the SubscribeStatusReasonCode enum.
var subscribeReasons = map[string]bool{RjctReferenceIDInvalid: true, RjctReferenceIDDuplicate: true, RjctTimestampInvalid: true,
	RjctNotifyTypesInvalid: true, RjctNotifyDetailsInvalid: true, "rjct.person_id.invalid": true, "rjct.event.already_subscribed": true}

// SubscribeReasonOf returns the subscription reason code err carries, or "" if it
// carries none of the SubscribeStatusReasonCode enum.
func SubscribeReasonOf(err error) string {
	if c := CodeOf(err); subscribeReasons[c] {
		return c
	}
	return ""
}

// SubscribeRequest is the message of subscribe.
type SubscribeRequest struct {
	TransactionID string          `json:"transaction_id"`
	Items         []SubscribeItem `json:"subscribe_request"`
}

// SubscribeItem is one subscription asked for. Err is set when the item is rejected.
type SubscribeItem struct {
	ReferenceID string `json:"reference_id"`
	Timestamp   string `json:"timestamp"`
	Locale      string `json:"locale,omitempty"`
	Criteria    SubscribeCriteria
	Err         error `json:"-"`
}

// SubscribeCriteria is subscribe_criteria; Frequency and Filter are kept as sent.
type SubscribeCriteria struct {
	RegType          string          `json:"reg_type,omitempty"`
	RegEventType     string          `json:"reg_event_type"`
	Frequency        json.RawMessage `json:"frequency,omitempty"`
	FilterType       string          `json:"filter_type,omitempty"`
	Filter           json.RawMessage `json:"filter"`
	NotifyRecordType string          `json:"notify_record_type"`
}

// DecodeSubscribe reads a subscribe request: the envelope and header as DecodeSearch
// does; a problem with one item rejects that item only.
func DecodeSubscribe(body []byte) (*Envelope[SubscribeRequest], error) {
	raw, h, err := decodeEnvelope(body, ActionSubscribe)
	if err != nil {
		return nil, err
	}
	m := fields(raw.Message)
	var msg SubscribeRequest
	if msg.TransactionID, err = str(m, "transaction_id"); err != nil || !validID(msg.TransactionID) {
		return nil, bad("message.transaction_id", fmt.Sprintf("is required: 1 to %d characters", MaxID))
	}
	items, ok := elements(m["subscribe_request"])
	if !ok || len(items) == 0 || len(items) > MaxSearchItems {
		return nil, bad("message.subscribe_request", fmt.Sprintf("must be a list of 1 to %d subscriptions", MaxSearchItems))
	}
	seen := map[string]bool{}
	for i, raw := range items {
		it := decodeSubscribeItem(raw, fmt.Sprintf("subscribe_request[%d]", i))
		if it.Err == nil && seen[it.ReferenceID] {
			it.Err = reject(RjctReferenceIDDuplicate, fmt.Sprintf("subscribe_request[%d].reference_id", i), "is used by another subscription of the message")
		}
		seen[it.ReferenceID] = true
		msg.Items = append(msg.Items, it)
	}
	return &Envelope[SubscribeRequest]{Signature: raw.Signature, Header: h, Message: msg, RawHeader: raw.Header, RawMessage: raw.Message}, nil
}

func decodeSubscribeItem(raw json.RawMessage, path string) (it SubscribeItem) {
	h, err := readItemHead(raw, path, RjctNotifyDetailsInvalid)
	it.ReferenceID, it.Timestamp, it.Locale, it.Err = h.ReferenceID, h.Timestamp, h.Locale, err
	if err != nil {
		return it
	}
	m := h.m
	c := fields(m["subscribe_criteria"])
	if c == nil {
		it.Err = reject(RjctNotifyDetailsInvalid, path+".subscribe_criteria", "is required and must be an object")
		return it
	}
	cr := &it.Criteria
	for _, f := range []struct {
		name string
		dst  *string
	}{{"reg_type", &cr.RegType}, {"reg_event_type", &cr.RegEventType}, {"filter_type", &cr.FilterType}, {"notify_record_type", &cr.NotifyRecordType}} {
		if *f.dst, err = str(c, f.name); err != nil {
			it.Err = reject(RjctNotifyDetailsInvalid, path+".subscribe_criteria."+f.name, "must be a string")
			return it
		}
	}
	switch {
	case cr.RegEventType == "":
		it.Err = reject(RjctNotifyTypesInvalid, path+".subscribe_criteria.reg_event_type", "is required")
	case EventType(cr.RegEventType) == "":
		it.Err = reject(RjctNotifyTypesInvalid, path+".subscribe_criteria.reg_event_type", fmt.Sprintf("%.60q is not an event the hub notifies: use one of %s", cr.RegEventType, strings.Join(eventNames, ", ")))
	case cr.NotifyRecordType == "":
		it.Err = reject(RjctNotifyDetailsInvalid, path+".subscribe_criteria.notify_record_type", "is required")
	case !present(c, "filter"):
		it.Err = reject(RjctNotifyDetailsInvalid, path+".subscribe_criteria.filter", "is required (an empty object: every event)")
	}
	if it.Err != nil {
		return it
	}
	cr.Filter = c["filter"]
	if v := c["frequency"]; !isEmpty(v) {
		if fields(v) == nil {
			it.Err = reject(RjctNotifyDetailsInvalid, path+".subscribe_criteria.frequency", "must be an object {start_time, end_time, frequency}")
			return it
		}
		cr.Frequency = v
	}
	return it
}

// eventNames are the hub's event types; EventType maps the standard's spellings to them.
var eventNames = []string{"birth", "death", "marriage", "divorce", "address", "registration", "household", "employment_start",
	"employment_end", "income", "disability", "enrolment"}

// EventType returns the hub's event type for a reg_event_type as partners spell it:
// "BIRTH", "birth", "LiveBirth", "spdci-common:RegistryEventType:LiveBirth", "DEATH",
// "ChangeOfAddress", …; "" when the hub does not notify it.
func EventType(regEventType string) string {
	s := regEventType
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		s = s[i+1:]
	}
	switch strings.ToLower(strings.NewReplacer("_", "", "-", "", " ", "").Replace(s)) {
	case "birth", "livebirth":
		return "birth"
	case "death":
		return "death"
	case "marriage":
		return "marriage"
	case "divorce":
		return "divorce"
	case "address", "changeofaddress", "addresschange":
		return "address"
	case "register", "registration", "newregistration":
		return "registration" // a new record in a registry (SR, FR, DR)
	case "household", "householdchange":
		return "household"
	case "employmentstart", "hire", "hired":
		return "employment_start"
	case "employmentend", "dismissal", "endofemployment":
		return "employment_end"
	case "income", "incomechange":
		return "income"
	case "disability", "disabilitystatus", "disabilitystatuschange":
		return "disability"
	case "enrolment", "enrollment", "enrolled", "enrolmentchange", "enrollmentchange", "enrollmentupdate":
		return "enrolment"
	}
	return ""
}

// UnsubscribeRequest is the message of unsubscribe.
type UnsubscribeRequest struct {
	TransactionID string   `json:"transaction_id"`
	Timestamp     string   `json:"timestamp"`
	Codes         []string `json:"subscription_codes"`
}

// DecodeUnsubscribe reads an unsubscribe request.
func DecodeUnsubscribe(body []byte) (*Envelope[UnsubscribeRequest], error) {
	raw, h, err := decodeEnvelope(body, ActionUnsubscribe)
	if err != nil {
		return nil, err
	}
	m := fields(raw.Message)
	var msg UnsubscribeRequest
	if msg.TransactionID, err = str(m, "transaction_id"); err != nil || !validID(msg.TransactionID) {
		return nil, bad("message.transaction_id", fmt.Sprintf("is required: 1 to %d characters", MaxID))
	}
	// The standard's first release spells it timesstamp.
	ts, _ := str(m, "timestamp")
	if ts == "" {
		ts, _ = str(m, "timesstamp")
	}
	if _, err := ParseTime(ts); err != nil {
		return nil, bad("message.timestamp", "is required: an RFC 3339 timestamp with a time zone")
	}
	msg.Timestamp = ts
	list, ok := elements(m["subscription_codes"])
	if !ok || len(list) == 0 || len(list) > MaxSearchItems {
		return nil, bad("message.subscription_codes", fmt.Sprintf("must be a list of 1 to %d codes", MaxSearchItems))
	}
	for i, e := range list {
		s, ok := unquote(e)
		if !ok || !validID(s) {
			return nil, bad(fmt.Sprintf("message.subscription_codes[%d]", i), fmt.Sprintf("must be a code of 1 to %d characters", MaxID))
		}
		msg.Codes = append(msg.Codes, s)
	}
	return &Envelope[UnsubscribeRequest]{Signature: raw.Signature, Header: h, Message: msg, RawHeader: raw.Header, RawMessage: raw.Message}, nil
}

// SubscribeResponse is the message of on-subscribe.
type SubscribeResponse struct {
	TransactionID string                  `json:"transaction_id"`
	CorrelationID string                  `json:"correlation_id"`
	Items         []SubscribeResponseItem `json:"subscribe_response"`
}

// SubscribeResponseItem answers one subscription asked for.
type SubscribeResponseItem struct {
	ReferenceID         string             `json:"reference_id"`
	Timestamp           string             `json:"timestamp"`
	Status              string             `json:"status"`
	StatusReasonCode    string             `json:"status_reason_code,omitempty"`
	StatusReasonMessage string             `json:"status_reason_message,omitempty"`
	Subscriptions       []SubscriptionInfo `json:"subscriptions,omitempty"`
	Locale              string             `json:"locale,omitempty"`
}

// SubscriptionInfo describes a subscription the hub holds.
type SubscriptionInfo struct {
	Version          string          `json:"version"`
	Code             string          `json:"code"`
	Status           string          `json:"status"`
	Timestamp        string          `json:"timestamp"`
	RegType          string          `json:"reg_type,omitempty"`
	RegEventType     string          `json:"reg_event_type,omitempty"`
	Frequency        json.RawMessage `json:"frequency,omitempty"`
	FilterType       string          `json:"filter_type,omitempty"`
	Filter           json.RawMessage `json:"filter,omitempty"`
	NotifyRecordType string          `json:"notify_record_type,omitempty"`
	Locale           string          `json:"locale,omitempty"`
}

// UnsubscribeResponse is the message of on-unsubscribe.
type UnsubscribeResponse struct {
	TransactionID       string               `json:"transaction_id"`
	CorrelationID       string               `json:"correlation_id"`
	Timestamp           string               `json:"timestamp"`
	Status              string               `json:"status"`
	StatusReasonCode    string               `json:"status_reason_code,omitempty"`
	StatusReasonMessage string               `json:"status_reason_message,omitempty"`
	SubscriptionStatus  []SubscriptionStatus `json:"subscription_status"`
}

// SubscriptionStatus is one code's status.
type SubscriptionStatus struct {
	Code   string `json:"code"`
	Status string `json:"status"`
}
