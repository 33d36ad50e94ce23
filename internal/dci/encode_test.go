package dci_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"
	"unicode"

	"pgregory.net/rapid"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// plainRunes is ASCII without <, > and &: strings of these are written byte for byte as
// json.Marshal writes them.
var plainRunes = rapid.RuneFrom(nil, &unicode.RangeTable{R16: []unicode.Range16{
	{Lo: 0, Hi: '&' - 1, Stride: 1}, {Lo: '&' + 1, Hi: '<' - 1, Stride: 1}, {Lo: '=', Hi: '=', Stride: 1}, {Lo: '>' + 1, Hi: 0x7f, Stride: 1},
}})

// texts draws the strings and values of one case: plain ones, or anything (invalid UTF-8,
// <, >, &, U+2028 included), which need only decode to the same values.
type texts struct{ plain bool }

func (x texts) str(t *rapid.T, label string) string {
	if x.plain {
		return rapid.StringOfN(plainRunes, 0, 12, -1).Draw(t, label)
	}
	if rapid.Bool().Draw(t, label+" as bytes") {
		return string(rapid.SliceOfN(rapid.Byte(), 0, 12).Draw(t, label))
	}
	return rapid.StringN(0, 12, -1).Draw(t, label)
}

// id draws an id NewSearchResponse accepts: no control characters.
func (x texts) id(t *rapid.T, label string) string {
	r := rapid.Rune()
	if x.plain {
		r = plainRunes
	}
	r = r.Filter(func(r rune) bool { return r >= 0x20 && r != 0x7f })
	return rapid.StringOfN(r, 1, 20, -1).Draw(t, label)
}

func (x texts) value(t *rapid.T, depth int) any {
	kinds := 5
	if depth >= 3 {
		kinds = 3 // scalars only
	}
	switch rapid.IntRange(0, kinds).Draw(t, "kind") {
	case 0:
		return nil
	case 1:
		return rapid.Bool().Draw(t, "bool")
	case 2:
		return rapid.Float64Range(-1e12, 1e12).Draw(t, "number")
	case 3:
		return x.str(t, "string")
	case 4:
		list := make([]any, rapid.IntRange(0, 3).Draw(t, "len"))
		for i := range list {
			list[i] = x.value(t, depth+1)
		}
		return list
	}
	return x.object(t, depth+1)
}

func (x texts) object(t *rapid.T, depth int) map[string]any {
	m := map[string]any{}
	for range rapid.IntRange(0, 4).Draw(t, "members") {
		m[x.str(t, "name")] = x.value(t, depth)
	}
	return m
}

// raw encodes v as the exchange passes records on: compact, or, from a careless source,
// with white space; HTML characters are not escaped.
func (x texts) raw(t *rapid.T, v any) json.RawMessage {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if rapid.Bool().Draw(t, "indented") {
		e.SetIndent(" ", "\t")
	}
	if err := e.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func (x texts) record(t *rapid.T) any {
	switch rapid.IntRange(0, 3).Draw(t, "record type") {
	case 0:
		return x.object(t, 0)
	case 1:
		return x.value(t, 2) // not an object: still encoded as json.Marshal would
	}
	return x.raw(t, x.object(t, 0))
}

func (x texts) rejection(t *rapid.T) error {
	msg := x.str(t, "reason")
	return rapid.SampledFrom([]error{
		dci.Coded(fault.Invalid, dci.RjctTooManyRecords, "", msg),
		dci.Coded(fault.Invalid, dci.RjctPaginationInvalid, "pagination.page_size", msg),
		fault.Forbiddenf("%s", msg),
		fault.Unavailablef(errors.New("dial tcp: refused"), "%s", msg),
		errors.New(msg),
	}).Draw(t, "rejection")
}

// TestAppendSearchResponseMatchesMarshal: the answer decodes to what json.Marshal's does,
// and is byte for byte json.Marshal's when its strings are plain.
func TestAppendSearchResponseMatchesMarshal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := texts{plain: rapid.Bool().Draw(t, "plain")}
		items := make([]dci.SearchRequestItem, rapid.IntRange(0, 4).Draw(t, "items"))
		out := make([]dci.Outcome, len(items))
		for i := range items {
			it := &items[i]
			it.ReferenceID = x.str(t, "reference_id")
			it.Locale = rapid.OneOf(rapid.SampledFrom([]string{"", "eng", "fra", "EN"}), rapid.Just(x.str(t, "locale"))).Draw(t, "locale")
			c := &it.SearchCriteria
			c.RegType, c.RegEventType, c.RegRecordType = x.str(t, "reg_type"), x.str(t, "reg_event_type"), x.str(t, "reg_record_type")
			switch rapid.IntRange(0, 3).Draw(t, "fate") {
			case 0:
				it.Err = dci.Coded(fault.Invalid, dci.RjctPaginationInvalid, "pagination.page_size", x.str(t, "decode error"))
			case 1: // never decoded: rejected as such
			case 2:
				it.Query = &query.Query{Page: 1, PageSize: 10}
				out[i].Err = x.rejection(t)
			default:
				it.Query = &query.Query{Page: rapid.IntRange(1, 1000).Draw(t, "page"), PageSize: rapid.IntRange(1, 100).Draw(t, "page_size")}
				out[i].Total = rapid.IntRange(-1, 1e6).Draw(t, "total")
				if n := rapid.IntRange(-1, 3).Draw(t, "records"); n >= 0 { // -1: nil records
					out[i].Records = make([]any, n)
					for j := range n {
						out[i].Records[j] = x.record(t)
					}
				}
			}
		}
		env := &dci.Envelope[dci.SearchRequest]{
			Header:  dci.MsgHeader{SenderID: x.str(t, "sender_id")},
			Message: dci.SearchRequest{TransactionID: x.str(t, "transaction_id"), SearchRequest: items},
		}
		r := dci.Reply{
			MessageID: x.id(t, "message_id"), CorrelationID: x.id(t, "correlation_id"), SenderID: x.str(t, "hub sender_id"),
			RegType: x.str(t, "default reg_type"), RecordType: x.str(t, "default record type"),
			Now: time.Unix(rapid.Int64Range(0, 1e10).Draw(t, "now"), rapid.Int64Range(0, 1e9-1).Draw(t, "ns")),
		}
		resp, err := dci.NewSearchResponse(env, r, out)
		if err != nil {
			t.Fatal(err)
		}
		// What NewSearchResponse leaves empty, a callback may carry.
		if rapid.Bool().Draw(t, "extras") {
			resp.Signature = x.str(t, "signature")
			h := &resp.Header
			h.Version = rapid.SampledFrom([]string{"", dci.Version}).Draw(t, "version")
			h.StatusReasonCode, h.StatusReasonMessage = x.str(t, "status_reason_code"), x.str(t, "status_reason_message")
			h.IsMsgEncrypted = rapid.Bool().Draw(t, "is_msg_encrypted")
			if rapid.Bool().Draw(t, "meta") {
				h.Meta = x.raw(t, x.value(t, 0))
			}
			for i := range resp.Message.SearchResponse {
				if d := resp.Message.SearchResponse[i].Data; d != nil && len(d.RegRecords) == 0 && rapid.Bool().Draw(t, "nil records") {
					d.RegRecords = nil
				}
			}
			if len(items) == 0 && rapid.Bool().Draw(t, "nil items") {
				resp.Message.SearchResponse = nil
			}
		}

		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		got, err := dci.AppendSearchResponse([]byte("x"), resp)
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != 'x' {
			t.Fatalf("AppendSearchResponse overwrote dst: %s", got)
		}
		got = got[1:]
		if x.plain && !bytes.Equal(got, want) {
			t.Fatalf("AppendSearchResponse =\n%s\njson.Marshal =\n%s", got, want)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("AppendSearchResponse wrote invalid JSON (%v):\n%s", err, got)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("AppendSearchResponse =\n%s\njson.Marshal =\n%s", got, want)
		}
	})
}

func TestAppendSearchResponseErrors(t *testing.T) {
	env, err := dci.DecodeSearch([]byte(validSearch))
	if err != nil {
		t.Fatal(err)
	}
	for name, rec := range map[string]any{
		"channel":                   map[string]any{"c": make(chan int)},
		"NaN":                       math.NaN(),
		"empty raw":                 json.RawMessage{},
		"invalid raw with a space":  json.RawMessage(`{"a": }`),
		"trailing data with spaces": json.RawMessage(`{} {}`),
	} {
		resp, err := dci.NewSearchResponse(env, reply, []dci.Outcome{{Records: []any{rec}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := json.Marshal(resp); err == nil {
			t.Fatalf("%s: json.Marshal succeeded", name)
		}
		if b, err := dci.AppendSearchResponse(nil, resp); err == nil {
			t.Errorf("%s: AppendSearchResponse = %s", name, b)
		}
	}
	if b, err := dci.AppendSearchResponse(nil, nil); string(b) != "null" || err != nil {
		t.Errorf("AppendSearchResponse(nil) = %s, %v; want null as json.Marshal", b, err)
	}
}

// benchRecord is a civil registry's person record, minimised, as a source sends it.
const benchRecord = `{"person":"85061500118","@type":"CRVS_Person","identifier":[{"identifier_type":"UIN","identifier_value":"847951632"},` +
	`{"identifier_type":"BRN","identifier_value":"BRN-1995-0921-0042"}],"name":{"surname":"Phumchai","given_name":"Sudarat",` +
	`"second_name":"Malee","prefix":"Ms"},"sex":"female","birth_date":"1995-09-21","birth_place":{"locality":"Chiang Mai",` +
	`"region":"Northern","country":"THA"},"marital_status":"married","nationality":"THA","address":[{"type":"residential",` +
	`"line1":"42 Moo 3, Nong Hoi","locality":"Mueang Chiang Mai","region_code":"TH-50","postal_code":"50000","country":"THA"}],` +
	`"phone_number":"+66 81 234 5678","email":"sudarat.p@example.org","parents":[{"relationship":"mother","person":"60031200457",` +
	`"name":{"surname":"Phumchai","given_name":"Malee"},"birth_date":"1968-03-12"},{"relationship":"father","person":"58110900231",` +
	`"name":{"surname":"Phumchai","given_name":"Somchai"},"birth_date":"1965-11-09"}],"death_date":null,"registration":` +
	`{"office":"Chiang Mai Civil Registry","registered_on":"1995-09-30","record_id":"CR-50-1995-004217","updated":"2024-06-02T08:15:00Z"}}`

func BenchmarkAppendSearchResponse(b *testing.B) {
	env, err := dci.DecodeSearch([]byte(validSearch))
	if err != nil {
		b.Fatal(err)
	}
	resp, err := dci.NewSearchResponse(env, reply, []dci.Outcome{{Records: []any{json.RawMessage(benchRecord)}, Total: 1}})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(resp); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := dci.AppendSearchResponse(nil, resp); err != nil {
				b.Fatal(err)
			}
		}
	})
}
