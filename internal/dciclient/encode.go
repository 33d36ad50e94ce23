package dciclient

import (
	"encoding/json"
	"strconv"

	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// appendJSON appends m as json.Marshal(m) writes it, without reflection: the hub asks a
// source on every search it routes there. An expression's query, a map, still goes
// through json.Marshal.
func (m *searchMessage) appendJSON(dst []byte) ([]byte, error) {
	h := &m.Header
	dst = appendString(dst, `{"signature":`, m.Signature)
	dst = appendString(dst, `,"header":{"version":`, h.Version)
	dst = appendString(dst, `,"message_id":`, h.MessageID)
	dst = appendString(dst, `,"message_ts":`, h.MessageTS)
	dst = appendString(dst, `,"action":`, h.Action)
	dst = appendString(dst, `,"sender_id":`, h.SenderID)
	dst = appendString(dst, `,"receiver_id":`, h.ReceiverID)
	if h.SenderURI != "" {
		dst = appendString(dst, `,"sender_uri":`, h.SenderURI)
	}
	dst = strconv.AppendInt(append(dst, `,"total_count":`...), int64(h.TotalCount), 10)
	dst = append(dst, `,"meta":{"fields":`...)
	if h.Meta.Fields == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, f := range h.Meta.Fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = rawjson.AppendString(dst, f)
		}
		dst = append(dst, ']')
	}
	if h.Meta.OnDate != "" {
		dst = appendString(dst, `,"on_date":`, h.Meta.OnDate)
	}
	dst = appendString(dst, `}},"message":{"transaction_id":`, m.Message.TransactionID)
	it := &m.Message.SearchRequest[0]
	dst = appendString(dst, `,"search_request":[{"reference_id":`, it.ReferenceID)
	dst = appendString(dst, `,"timestamp":`, it.Timestamp)
	c := &it.SearchCriteria
	dst = appendString(dst, `,"search_criteria":{"query_type":`, c.QueryType)
	dst = append(dst, `,"query":`...)
	if q, ok := c.Query.(idQuery); ok {
		dst = appendString(dst, `{"type":`, q.Type)
		dst = appendString(dst, `,"value":`, q.Value)
		dst = append(dst, '}')
	} else {
		b, err := json.Marshal(c.Query)
		if err != nil {
			return nil, err
		}
		dst = append(dst, b...)
	}
	dst = strconv.AppendInt(append(dst, `,"pagination":{"page_size":`...), int64(c.Pagination.PageSize), 10)
	dst = strconv.AppendInt(append(dst, `,"page_number":`...), int64(c.Pagination.PageNumber), 10)
	dst = appendString(dst, `}},"locale":`, it.Locale)
	return append(dst, "}]}}"...), nil
}

// appendString appends prefix (punctuation and a member's name) and s as a JSON string.
func appendString(dst []byte, prefix, s string) []byte {
	return rawjson.AppendString(append(dst, prefix...), s)
}
