package dci

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// Version is the only protocol version the hub speaks.
const Version = "1.0.0"

// MaxID is the longest id the standard allows (message_id, transaction_id, reference_id,
// sender_id, correlation_id).
const MaxID = 99

// Envelope is a request: {signature, header, message}. RawHeader and RawMessage keep the
// bytes as received, for signature checks over exactly what the sender signed.
type Envelope[M any] struct {
	Signature string    `json:"signature,omitempty"`
	Header    MsgHeader `json:"header"`
	Message   M         `json:"message"`

	RawHeader  json.RawMessage `json:"-"`
	RawMessage json.RawMessage `json:"-"`
}

// Callback is a sync answer or an asynchronous callback: the header carries a status.
type Callback[M any] struct {
	Signature string         `json:"signature,omitempty"`
	Header    CallbackHeader `json:"header"`
	Message   M              `json:"message"`
}

// MsgHeader is the header of a request (MsgHeader_V1.0.0).
type MsgHeader struct {
	Version        string          `json:"version,omitempty"`
	MessageID      string          `json:"message_id"`
	MessageTS      string          `json:"message_ts"`
	Action         string          `json:"action"`
	SenderID       string          `json:"sender_id"`
	SenderURI      string          `json:"sender_uri,omitempty"`
	ReceiverID     string          `json:"receiver_id,omitempty"`
	TotalCount     Count           `json:"total_count"`
	IsMsgEncrypted bool            `json:"is_msg_encrypted,omitempty"`
	Meta           json.RawMessage `json:"meta,omitempty"` // free-form; samples send ""
}

// Request statuses (RequestStatus), for callback headers and search items.
const (
	StatusReceived = "rcvd"
	StatusPending  = "pdng"
	StatusSuccess  = "succ"
	StatusRejected = "rjct"
)

// CallbackHeader is the header of answers and callbacks (MsgCallbackHeader_V1.0.0).
type CallbackHeader struct {
	Version             string          `json:"version,omitempty"`
	MessageID           string          `json:"message_id"`
	MessageTS           string          `json:"message_ts"`
	Action              string          `json:"action"`
	Status              string          `json:"status"`
	StatusReasonCode    string          `json:"status_reason_code,omitempty"`
	StatusReasonMessage string          `json:"status_reason_message,omitempty"`
	TotalCount          Count           `json:"total_count"`
	CompletedCount      Count           `json:"completed_count"`
	SenderID            string          `json:"sender_id,omitempty"`
	ReceiverID          string          `json:"receiver_id,omitempty"`
	IsMsgEncrypted      bool            `json:"is_msg_encrypted,omitempty"`
	Meta                json.RawMessage `json:"meta,omitempty"`
}

// Count is an int32 count that arrives as a JSON number or, as the standard's own samples
// send it, a numeric string ("1"). It is always written as a number.
type Count int

// UnmarshalJSON accepts the numbers 10, 10.0 and 1e1 and the string "10"; it rejects
// fractions, other strings ("", "1e1", "0x10") and values beyond int32.
func (c *Count) UnmarshalJSON(b []byte) error {
	if n, ok := plainCount(b); ok {
		*c = n
		return nil
	}
	s := string(bytes.TrimSpace(b))
	if s == "null" { // left as is, as encoding/json does; required fields are checked apart
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
		if err != nil {
			return fmt.Errorf("%.40q is not a whole number", s)
		}
		*c = Count(n)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return fmt.Errorf("%.40s is not a whole number", s)
	}
	*c = Count(f)
	return nil
}

// plainCount reads the common case of a count, a JSON number of at most 9 digits without
// sign, fraction or exponent, as decoding it would; ok is false for anything else.
func plainCount(b []byte) (n Count, ok bool) {
	if len(b) == 0 || len(b) > 9 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	for _, d := range b {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = 10*n + Count(d-'0')
	}
	return n, true
}

// tsLayout writes timestamps as RFC 3339 in UTC with milliseconds, as the samples do.
const tsLayout = "2006-01-02T15:04:05.000Z07:00"

// Timestamp formats t for a message (message_ts, timestamp).
func Timestamp(t time.Time) string { return t.UTC().Format(tsLayout) }

// ParseTime parses an RFC 3339 timestamp; the time zone (Z or ±hh:mm) is required, as the
// standard demands ("2024-01-01T10:00:00" is rejected).
func ParseTime(s string) (time.Time, error) {
	if len(s) > 64 {
		return time.Time{}, fmt.Errorf("timestamp too long")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp with a time zone", s)
	}
	return t, nil
}

// validID reports whether s is an acceptable id: 1 to MaxID characters, none of them a
// control character (ids end up in logs and headers).
func validID(s string) bool {
	if s == "" || len([]rune(s)) > MaxID {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// validLocale reports whether s is an ISO 639-3 code in lower case, as the spec's pattern
// ^[a-z]{3}$ demands ("en" and "ENG" are rejected).
func validLocale(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// RawEnvelope is an envelope split into its parts, before the message is interpreted.
type RawEnvelope struct {
	Signature string
	Header    json.RawMessage
	Message   json.RawMessage
}

// SplitEnvelope parses body as {signature, header, message}: header and message must be
// JSON objects, signature a string when present. Other top-level fields are tolerated.
// Header and Message share body's bytes.
func SplitEnvelope(body []byte) (RawEnvelope, error) {
	if !rawjson.Valid(body) {
		if rawjson.Deeper(body, rawjson.MaxDepth) {
			return RawEnvelope{}, bad("", fmt.Sprintf("body is nested too deep (max %d)", rawjson.MaxDepth))
		}
		return RawEnvelope{}, bad("", "body is not a JSON object")
	}
	top := fields(body) // body is valid: the levels below are split without a second scan
	if top == nil {
		return RawEnvelope{}, bad("", "body is not a JSON object")
	}
	var env RawEnvelope
	if s, ok := top["signature"]; ok && !isNull(s) {
		var ok bool
		if env.Signature, ok = unquote(s); !ok {
			return RawEnvelope{}, bad("signature", "must be a string")
		}
	}
	for _, p := range []struct {
		name string
		dst  *json.RawMessage
	}{{"header", &env.Header}, {"message", &env.Message}} {
		v, ok := top[p.name]
		if !ok || isNull(v) {
			return RawEnvelope{}, bad(p.name, "is required")
		}
		if !isObject(v) {
			return RawEnvelope{}, bad(p.name, "must be an object")
		}
		*p.dst = v
	}
	return env, nil
}

func isObject(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}

// isEmpty reports whether a raw value is absent, null or "", which the samples send for
// optional fields they leave out.
func isEmpty(b json.RawMessage) bool {
	s := string(bytes.TrimSpace(b))
	return s == "" || s == "null" || s == `""`
}

// decodeEnvelope splits body and reads its header for action.
func decodeEnvelope(body []byte, action string) (RawEnvelope, MsgHeader, error) {
	raw, err := SplitEnvelope(body)
	if err != nil {
		return raw, MsgHeader{}, err
	}
	h, err := decodeHeader(raw.Header, action)
	if err != nil {
		return raw, h, err
	}
	if h.IsMsgEncrypted {
		return raw, h, Coded(fault.Invalid, ErrEncryption, "header.is_msg_encrypted", "encrypted messages are not supported")
	}
	return raw, h, nil
}
