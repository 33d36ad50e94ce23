package dci

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// AppendSearchResponse appends c to dst as the JSON document json.Marshal(c) writes: the
// same members, in the same order, with the same values. It spares the hub's answers
// reflection and, above all, the re-validation of their records: a json.RawMessage record
// (and header.meta) is copied as it is when it holds no white space between tokens, and
// only compacted otherwise. Raw records are trusted to be valid JSON, as the exchange's
// sources promise (exchange.RawRecord); records of other types go through json.Marshal.
//
// Strings are written by rawjson.AppendString, and raw records are not HTML-escaped as
// json.Marshal escapes them, so the bytes may differ from json.Marshal's where <, > or &
// (or, in raw records, U+2028 and U+2029) appear; the values they decode to never do.
// Records json.Marshal cannot encode, and raw JSON with white space that is not valid,
// are errors.
func AppendSearchResponse(dst []byte, c *Callback[SearchResponse]) ([]byte, error) {
	if c == nil {
		return append(dst, "null"...), nil
	}
	dst = slices.Grow(dst, sizeHint(&c.Message)) // records are the bulk: copy them once
	dst = append(dst, '{')
	if c.Signature != "" {
		dst = appendString(dst, `"signature":`, c.Signature)
		dst = append(dst, ',')
	}
	dst, err := appendCallbackHeader(append(dst, `"header":`...), &c.Header)
	if err != nil {
		return nil, err
	}
	dst = append(dst, `,"message":{`...)
	m := &c.Message
	dst = appendString(dst, `"transaction_id":`, m.TransactionID)
	dst = appendString(dst, `,"correlation_id":`, m.CorrelationID)
	dst = append(dst, `,"search_response":`...)
	if m.SearchResponse == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i := range m.SearchResponse {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendSearchResponseItem(dst, &m.SearchResponse[i]); err != nil {
				return nil, err
			}
		}
		dst = append(dst, ']')
	}
	return append(dst, "}}"...), nil
}

// sizeHint guesses the length of the encoded message m.
func sizeHint(m *SearchResponse) int {
	n := 512
	for _, it := range m.SearchResponse {
		n += 256
		if it.Data == nil {
			continue
		}
		for _, r := range it.Data.RegRecords {
			if raw, ok := r.(json.RawMessage); ok {
				n += len(raw) + 1
			} else {
				n += 512
			}
		}
	}
	return n
}

func appendCallbackHeader(dst []byte, h *CallbackHeader) ([]byte, error) {
	dst = append(dst, '{')
	if h.Version != "" {
		dst = appendString(dst, `"version":`, h.Version)
		dst = append(dst, ',')
	}
	dst = appendString(dst, `"message_id":`, h.MessageID)
	dst = appendString(dst, `,"message_ts":`, h.MessageTS)
	dst = appendString(dst, `,"action":`, h.Action)
	dst = appendString(dst, `,"status":`, h.Status)
	dst = appendOptional(dst, `,"status_reason_code":`, h.StatusReasonCode)
	dst = appendOptional(dst, `,"status_reason_message":`, h.StatusReasonMessage)
	dst = appendInt(dst, `,"total_count":`, int(h.TotalCount))
	dst = appendInt(dst, `,"completed_count":`, int(h.CompletedCount))
	dst = appendOptional(dst, `,"sender_id":`, h.SenderID)
	dst = appendOptional(dst, `,"receiver_id":`, h.ReceiverID)
	if h.IsMsgEncrypted {
		dst = append(dst, `,"is_msg_encrypted":true`...)
	}
	if len(h.Meta) > 0 {
		var err error
		if dst, err = appendRaw(append(dst, `,"meta":`...), h.Meta); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

func appendSearchResponseItem(dst []byte, it *SearchResponseItem) ([]byte, error) {
	dst = appendString(append(dst, '{'), `"reference_id":`, it.ReferenceID)
	dst = appendString(dst, `,"timestamp":`, it.Timestamp)
	dst = appendString(dst, `,"status":`, it.Status)
	dst = appendOptional(dst, `,"status_reason_code":`, it.StatusReasonCode)
	dst = appendOptional(dst, `,"status_reason_message":`, it.StatusReasonMessage)
	if d := it.Data; d != nil {
		dst = appendString(dst, `,"data":{"version":`, d.Version)
		dst = appendOptional(dst, `,"reg_type":`, d.RegType)
		dst = appendOptional(dst, `,"reg_event_type":`, d.RegEventType)
		dst = appendString(dst, `,"reg_record_type":`, d.RegRecordType)
		dst = append(dst, `,"reg_records":`...)
		if d.RegRecords == nil {
			dst = append(dst, "null"...)
		} else {
			dst = append(dst, '[')
			for i, r := range d.RegRecords {
				if i > 0 {
					dst = append(dst, ',')
				}
				var err error
				if dst, err = appendRecord(dst, r); err != nil {
					return nil, err
				}
			}
			dst = append(dst, ']')
		}
		dst = append(dst, '}')
	}
	if p := it.Pagination; p != nil {
		dst = appendInt(dst, `,"pagination":{"page_size":`, p.PageSize)
		dst = appendInt(dst, `,"page_number":`, p.PageNumber)
		dst = appendInt(dst, `,"total_count":`, p.TotalCount)
		dst = append(dst, '}')
	}
	dst = appendOptional(dst, `,"locale":`, it.Locale)
	return append(dst, '}'), nil
}

// appendRecord appends a record: raw JSON as it is, anything else as json.Marshal writes it.
func appendRecord(dst []byte, r any) ([]byte, error) {
	if raw, ok := r.(json.RawMessage); ok {
		return appendRaw(dst, raw)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// appendRaw appends the JSON value raw, compacted as json.Marshal would. Compact values,
// the usual case, are copied without a second look; a nil one is null, as json.Marshal
// writes it.
func appendRaw(dst []byte, raw json.RawMessage) ([]byte, error) {
	if raw == nil {
		return append(dst, "null"...), nil
	}
	if len(raw) > 0 && isCompact(raw) {
		return append(dst, raw...), nil
	}
	buf := bytes.NewBuffer(dst)
	if err := json.Compact(buf, raw); err != nil { // also refuses an empty value
		return nil, err
	}
	return buf.Bytes(), nil
}

// isCompact reports whether the JSON text b has no white space outside its strings.
func isCompact(b []byte) bool {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			return false
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		}
	}
	return true
}

// appendString appends prefix (the member's name and colon) and s as a JSON string.
func appendString(dst []byte, prefix, s string) []byte {
	return rawjson.AppendString(append(dst, prefix...), s)
}

// appendOptional is appendString for an omitempty member: nothing when s is empty.
func appendOptional(dst []byte, prefix, s string) []byte {
	if s == "" {
		return dst
	}
	return appendString(dst, prefix, s)
}

func appendInt(dst []byte, prefix string, n int) []byte {
	return strconv.AppendInt(append(dst, prefix...), int64(n), 10)
}
