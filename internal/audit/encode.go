package audit

import (
	"strconv"
	"time"

	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// appendRecord appends r exactly as json.Marshal(r) encodes it, without reflection: the
// stored bytes are hashed, and records written by json.Marshal must keep verifying. It
// holds for every record prepare lets through, whose time is UTC within years 1..9999
// (json.Marshal would fail on other years, and write other zones' offsets).
func appendRecord(dst []byte, r *Record) []byte {
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendInt(dst, r.Seq, 10)
	dst = append(dst, `,"time":"`...)
	// What time.Time.MarshalJSON writes, less the range checks prepare has made.
	dst = r.Time.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","client":`...)
	dst = rawjson.AppendString(dst, r.Client)
	if r.MessageID != "" {
		dst = append(dst, `,"message_id":`...)
		dst = rawjson.AppendString(dst, r.MessageID)
	}
	dst = append(dst, `,"institution":`...)
	dst = rawjson.AppendString(dst, r.Institution)
	dst = append(dst, `,"service":`...)
	dst = rawjson.AppendString(dst, r.Service)
	dst = append(dst, `,"purpose":`...)
	dst = rawjson.AppendString(dst, r.Purpose)
	dst = append(dst, `,"persons":`...)
	dst = appendStrings(dst, r.Persons)
	dst = append(dst, `,"fields":`...)
	dst = appendStrings(dst, r.Fields)
	dst = append(dst, `,"decision":`...)
	dst = rawjson.AppendString(dst, r.Decision)
	dst = append(dst, `,"reasons":`...)
	dst = appendStrings(dst, r.Reasons)
	dst = append(dst, `,"authorization":`...)
	dst = rawjson.AppendString(dst, r.Authorization)
	dst = append(dst, `,"outcome":`...)
	dst = rawjson.AppendString(dst, r.Outcome)
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(r.Status), 10)
	dst = append(dst, `,"latency_us":`...)
	dst = strconv.AppendInt(dst, r.LatencyMicros, 10)
	dst = append(dst, `,"request_hash":`...)
	dst = rawjson.AppendString(dst, r.RequestHash)
	dst = append(dst, `,"response_hash":`...)
	dst = rawjson.AppendString(dst, r.ResponseHash)
	if r.Lines != 0 {
		dst = append(dst, `,"lines":`...)
		dst = strconv.AppendInt(dst, int64(r.Lines), 10)
	}
	dst = append(dst, `,"binding":`...)
	dst = rawjson.AppendString(dst, r.Binding)
	return append(dst, '}')
}

// appendStrings appends list as encoding/json does: null when nil, [] when empty.
func appendStrings(dst []byte, list []string) []byte {
	if list == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = rawjson.AppendString(dst, s)
	}
	return append(dst, ']')
}
