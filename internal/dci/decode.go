package dci

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// MaxSearchItems is the largest batch one search message may carry; the standard sets none.
const MaxSearchItems = 100

// DecodeSearch reads a search or sync/search request. The caller bounds body (1 MiB).
//
// A problem with the envelope, the header or the message as a whole is returned as an error
// whose CodeOf is the DCI code to answer with (err.request.bad, err.version.not_supported,
// err.sender_id.invalid, …) and whose kind is fault.Invalid. A problem with one item of the
// batch does not fail the message: the item gets Err (a rjct.* reason) and the other items
// can still be answered. Each accepted item gets its Query.
//
// Strict where the standard is precise (required fields, ids ≤ 99 characters, time zones,
// ISO 639-3 locales, page numbers from 1); lenient where implementations differ (numeric
// strings for counts, "" for absent optional fields, reg_event_type or reg_record_type,
// predicate lists under query_type "expression", unknown top-level fields).
func DecodeSearch(body []byte) (*Envelope[SearchRequest], error) {
	raw, h, err := decodeEnvelope(body, ActionSearch)
	if err != nil {
		return nil, err
	}
	msg, err := decodeSearchMessage(raw.Message)
	if err != nil {
		return nil, err
	}
	return &Envelope[SearchRequest]{
		Signature: raw.Signature, Header: h, Message: msg,
		RawHeader: raw.Header, RawMessage: raw.Message,
	}, nil
}

func bad(field, msg string) *fault.Error { return Coded(fault.Invalid, ErrRequestBad, field, msg) }

// str reads member name of m as a string; absent and null give "".
func str(m map[string]json.RawMessage, name string) (string, error) {
	v, ok := m[name]
	if !ok || isNull(v) {
		return "", nil
	}
	s, ok := unquote(v)
	if !ok {
		return "", fmt.Errorf("must be a string")
	}
	return s, nil
}

// present reports whether member name of m is there and not null.
func present(m map[string]json.RawMessage, name string) bool {
	v, ok := m[name]
	return ok && !isNull(v)
}

func decodeHeader(raw json.RawMessage, action string) (MsgHeader, error) {
	m := fields(raw)
	for _, name := range []string{"message_id", "message_ts", "action", "sender_id", "total_count"} {
		if !present(m, name) {
			return MsgHeader{}, bad("header."+name, "is required")
		}
	}
	var h MsgHeader
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"version", &h.Version}, {"message_id", &h.MessageID}, {"message_ts", &h.MessageTS},
		{"action", &h.Action}, {"sender_id", &h.SenderID}, {"sender_uri", &h.SenderURI},
		{"receiver_id", &h.ReceiverID},
	} {
		s, err := str(m, f.name)
		if err != nil {
			return MsgHeader{}, Coded(fault.Invalid, headerCode(f.name), "header."+f.name, err.Error())
		}
		*f.dst = s
	}
	if err := h.TotalCount.UnmarshalJSON(m["total_count"]); err != nil || h.TotalCount < 0 {
		return MsgHeader{}, bad("header.total_count", "must be a whole number ≥ 0")
	}
	if v, ok := m["is_msg_encrypted"]; ok && !isNull(v) {
		if err := json.Unmarshal(v, &h.IsMsgEncrypted); err != nil {
			return MsgHeader{}, bad("header.is_msg_encrypted", "must be a boolean")
		}
	}
	if v, ok := m["meta"]; ok && !isEmpty(v) {
		h.Meta = v
	}
	return h, checkHeader(h, action)
}

// headerCode is the code for a header field of the wrong type.
func headerCode(field string) string {
	switch field {
	case "version":
		return ErrVersion
	case "sender_id":
		return ErrSenderID
	case "sender_uri":
		return ErrSenderURI
	case "receiver_id":
		return ErrReceiverID
	}
	return ErrRequestBad
}

func checkHeader(h MsgHeader, action string) error {
	switch {
	case h.Version != "" && h.Version != Version:
		return Coded(fault.Invalid, ErrVersion, "header.version", fmt.Sprintf("version %.20q is not supported; use %s", h.Version, Version))
	case !validID(h.MessageID):
		return bad("header.message_id", fmt.Sprintf("must be 1 to %d characters", MaxID))
	case h.Action != action:
		return bad("header.action", fmt.Sprintf("must be %q", action))
	case !validID(h.SenderID):
		return Coded(fault.Invalid, ErrSenderID, "header.sender_id", fmt.Sprintf("must be 1 to %d characters", MaxID))
	case h.ReceiverID != "" && !validID(h.ReceiverID):
		return Coded(fault.Invalid, ErrReceiverID, "header.receiver_id", fmt.Sprintf("must be 1 to %d characters", MaxID))
	case h.SenderURI != "" && !validURI(h.SenderURI):
		return Coded(fault.Invalid, ErrSenderURI, "header.sender_uri", "must be an absolute URI")
	}
	if _, err := ParseTime(h.MessageTS); err != nil {
		return bad("header.message_ts", "must be an RFC 3339 timestamp with a time zone")
	}
	return nil
}

func validURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && len(s) <= 2048 && u.IsAbs()
}

func decodeSearchMessage(raw json.RawMessage) (SearchRequest, error) {
	m := fields(raw)
	var msg SearchRequest
	tx, err := str(m, "transaction_id")
	if err != nil || !validID(tx) {
		return msg, bad("message.transaction_id", fmt.Sprintf("is required: 1 to %d characters", MaxID))
	}
	msg.TransactionID = tx
	items, ok := elements(m["search_request"])
	if !ok || len(items) == 0 {
		return msg, bad("message.search_request", "must be a non-empty list")
	}
	if len(items) > MaxSearchItems {
		return msg, bad("message.search_request", fmt.Sprintf("holds more than %d searches", MaxSearchItems))
	}
	msg.SearchRequest = make([]SearchRequestItem, len(items))
	for i, it := range items {
		msg.SearchRequest[i] = decodeItem(it, "search_request["+strconv.Itoa(i)+"]")
	}
	markDuplicates(msg.SearchRequest)
	return msg, nil
}

// markDuplicates rejects every item whose reference_id another item also uses: answering
// one of them would leave the requester unable to tell which search the answer is for.
func markDuplicates(items []SearchRequestItem) {
	seen := map[string]int{}
	for _, it := range items {
		if validID(it.ReferenceID) {
			seen[it.ReferenceID]++
		}
	}
	for i := range items {
		it := &items[i]
		if validID(it.ReferenceID) && seen[it.ReferenceID] > 1 {
			it.Asked, it.Query = it.Query, nil
			it.Err = reject(RjctReferenceIDDuplicate, fmt.Sprintf("search_request[%d].reference_id", i), "is used by another search of the message")
		}
	}
}

func reject(reason, field, msg string) *fault.Error { return Coded(fault.Invalid, reason, field, msg) }

// itemHead is what every item of a batch starts with: its reference, timestamp and locale.
type itemHead struct {
	ReferenceID, Timestamp, Locale string
	m                              map[string]json.RawMessage // the item's members
}

// readItemHead reads raw's head; a malformed item or locale is rejected with badReason,
// the registry call's reason for a bad item.
func readItemHead(raw json.RawMessage, path, badReason string) (h itemHead, err error) {
	if h.m = fields(raw); h.m == nil {
		return h, reject(badReason, path, "must be an object")
	}
	if h.ReferenceID, err = str(h.m, "reference_id"); err != nil || !validID(h.ReferenceID) {
		return h, reject(RjctReferenceIDInvalid, path+".reference_id", fmt.Sprintf("is required: 1 to %d characters", MaxID))
	}
	if h.Timestamp, err = str(h.m, "timestamp"); err != nil || h.Timestamp == "" {
		return h, reject(RjctTimestampInvalid, path+".timestamp", "is required")
	}
	if _, err := ParseTime(h.Timestamp); err != nil {
		return h, reject(RjctTimestampInvalid, path+".timestamp", "must be an RFC 3339 timestamp with a time zone")
	}
	if h.Locale, err = str(h.m, "locale"); err != nil || (h.Locale != "" && !validLocale(h.Locale)) {
		h.Locale = ""
		return h, reject(badReason, path+".locale", "must be an ISO 639-3 code in lower case, such as eng")
	}
	return h, nil
}

// decodeItem reads one search item; a rejected item keeps in Asked what its query asks,
// as far as it can be read.
func decodeItem(raw json.RawMessage, path string) SearchRequestItem {
	it := readItem(raw, path)
	if it.Err != nil {
		it.Asked = asked(raw)
	}
	return it
}

func readItem(raw json.RawMessage, path string) (it SearchRequestItem) {
	h, err := readItemHead(raw, path, RjctCriteriaInvalid)
	it.ReferenceID, it.Timestamp, it.Locale, it.Err = h.ReferenceID, h.Timestamp, h.Locale, err
	if err != nil {
		return it
	}
	m := h.m
	c := fields(m["search_criteria"])
	if c == nil {
		it.Err = reject(RjctCriteriaInvalid, path+".search_criteria", "is required and must be an object")
		return it
	}
	if it.SearchCriteria, err = decodeCriteria(c); err != nil {
		it.Err = reject(RjctCriteriaInvalid, path+".search_criteria", err.Error())
		return it
	}
	q, err := buildQuery(&it.SearchCriteria)
	if err != nil {
		it.Err = fault.In(path+".search_criteria", err)
		return it
	}
	it.Query = q
	return it
}

// decodeCriteria copies the members of search_criteria, checking their JSON types. Raw
// members that the samples send as "" (consent, authorize, sort, pagination) count as absent.
func decodeCriteria(m map[string]json.RawMessage) (SearchCriteria, error) {
	var c SearchCriteria
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"version", &c.Version}, {"reg_type", &c.RegType}, {"reg_event_type", &c.RegEventType},
		{"reg_record_type", &c.RegRecordType}, {"query_type", &c.QueryType},
		{"response_entity", &c.ResponseEntity},
	} {
		s, err := str(m, f.name)
		if err != nil {
			return c, fmt.Errorf("%s %v", f.name, err)
		}
		*f.dst = s
	}
	if c.QueryType == "" {
		return c, fmt.Errorf("query_type is required")
	}
	if !present(m, "query") {
		return c, fmt.Errorf("query is required")
	}
	c.Query = m["query"]
	for _, f := range []struct {
		name string
		dst  *json.RawMessage
	}{{"sort", &c.Sort}, {"pagination", &c.Pagination}, {"consent", &c.Consent}, {"authorize", &c.Authorize}} {
		if v := m[f.name]; !isEmpty(v) {
			*f.dst = v
		}
	}
	return c, nil
}

// asked reads the query of a search item as far as it can be read, whatever else is
// wrong with the item (its reference, timestamp, locale, sort or page): nil when the
// query itself cannot be read.
func asked(raw json.RawMessage) *query.Query {
	c := fields(fields(raw)["search_criteria"])
	if c == nil {
		return nil
	}
	crit, err := decodeCriteria(c)
	if err != nil {
		return nil
	}
	q, _ := buildQuery(&crit)
	return q
}

// Asked reads, leniently, what the items of a search message ask, whatever else is wrong
// with the message (its header, its meta, an item): the queries that can be read of its
// first MaxSearchItems items. It never fails; what cannot be read is left out. The audit
// record of a refused message names the persons they name (exchange.Named), so that a
// person finds every attempt.
func Asked(body []byte) []query.Query {
	items, _ := elements(fields(fields(body)["message"])["search_request"])
	var out []query.Query
	for _, raw := range items[:min(len(items), MaxSearchItems)] {
		if q := asked(raw); q != nil {
			out = append(out, *q)
		}
	}
	return out
}
