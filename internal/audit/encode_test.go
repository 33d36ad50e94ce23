package audit

import (
	"encoding/json"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestAppendRecord checks that appendRecord writes every record prepare can let
// through byte for byte as json.Marshal does: the canonical, hashed encoding.
func TestAppendRecord(t *testing.T) {
	tricky := rapid.SampledFrom([]rune("\"\\/<>&\b\f\n\r\t\x00\x1f\x7f\u00e9\u2028\u2029\ufffd\U0001F600"))
	str := rapid.OneOf(
		rapid.String(),
		rapid.StringOf(rapid.OneOf(tricky, rapid.Rune())),
		rapid.Map(rapid.SliceOf(rapid.Byte()), func(b []byte) string { return string(b) }), // invalid UTF-8 too
	)
	strs := rapid.OneOf(rapid.Just([]string(nil)), rapid.Just([]string{}), rapid.SliceOf(str))
	minSec := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxSec := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	rapid.Check(t, func(t *rapid.T) {
		nanos := rapid.OneOf(rapid.Just(int64(0)), rapid.Int64Range(0, 999_999_999)).Draw(t, "nanos")
		r := Record{
			Seq:           rapid.Int64().Draw(t, "seq"),
			Time:          time.Unix(rapid.Int64Range(minSec, maxSec).Draw(t, "time"), nanos).UTC(),
			Client:        str.Draw(t, "client"),
			MessageID:     str.Draw(t, "message_id"),
			Institution:   str.Draw(t, "institution"),
			Service:       str.Draw(t, "service"),
			Purpose:       str.Draw(t, "purpose"),
			Persons:       strs.Draw(t, "persons"),
			Fields:        strs.Draw(t, "fields"),
			Decision:      str.Draw(t, "decision"),
			Reasons:       strs.Draw(t, "reasons"),
			Authorization: str.Draw(t, "authorization"),
			Outcome:       str.Draw(t, "outcome"),
			Status:        rapid.Int().Draw(t, "status"),
			LatencyMicros: rapid.Int64().Draw(t, "latency"),
			RequestHash:   str.Draw(t, "request_hash"),
			ResponseHash:  str.Draw(t, "response_hash"),
			Lines:         rapid.OneOf(rapid.Just(0), rapid.Int()).Draw(t, "lines"),
			Binding:       str.Draw(t, "binding"),
		}
		want, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendRecord(nil, &r); string(got) != string(want) {
			t.Fatalf("appendRecord:\n%s\njson.Marshal:\n%s", got, want)
		}
		checkMessageOf(t, want)
	})
}

// checkMessageOf checks that messageOf reads what json.Unmarshal does, wherever both read
// b, and that it reads every record the log writes.
func checkMessageOf(t interface{ Fatalf(string, ...any) }, b []byte) {
	tm, client, id, err := messageOf(b)
	d, derr := decode(b)
	if derr == nil && err == nil && (!tm.Equal(d.Time) || client != d.Client || id != d.MessageID) {
		t.Fatalf("messageOf(%s) = %v %q %q; json.Unmarshal: %v %q %q", b, tm, client, id, d.Time, d.Client, d.MessageID)
	}
	if err != nil && derr == nil && string(appendRecord(nil, &d)) == string(b) {
		t.Fatalf("messageOf(%s): %v, for a record as the log writes it", b, err)
	}
}

// FuzzMessageOf checks messageOf against json.Unmarshal on arbitrary bytes.
func FuzzMessageOf(f *testing.F) {
	r := benchRecord()
	r.MessageID = "m-1"
	f.Add(appendRecord(nil, &r))
	r.MessageID, r.Client = "", "caf\u00e9 \"x\""
	f.Add(appendRecord(nil, &r))
	f.Add([]byte(`{"time":"2026-03-01T12:00:00Z","client":"a","client":"b","message_id":null}`))
	f.Add([]byte(`{"time":null,"client":"a"}`))
	f.Fuzz(func(t *testing.T, b []byte) { checkMessageOf(t, b) })
}

// TestEncodeSeqlessPrepared checks the encoding of a record as Append prepares it.
func TestEncodeSeqlessPrepared(t *testing.T) {
	r, err := prepare(benchRecord(), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	r.Time = time.Date(2026, 3, 1, 13, 0, 0, 5, time.FixedZone("CET", 3600)) // prepare makes it UTC
	if r, err = prepare(r, time.Now); err != nil {
		t.Fatal(err)
	}
	got, err := encodeSeqless(&r)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := json.Marshal(&r); string(got) != string(want) {
		t.Fatalf("encodeSeqless:\n%s\njson.Marshal:\n%s", got, want)
	}
	if len(got) > encodedSize(&r) {
		t.Errorf("the record takes %d bytes, more than encodedSize's %d", len(got), encodedSize(&r))
	}
}

// benchRecord is a typical record as a caller hands it to Append.
func benchRecord() Record {
	return Record{
		Time:   time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC),
		Client: "app-3", MessageID: "0f8e2c1a-7b4d-4e55-9a3c-2d1e6f7a8b90",
		Institution: "FUND", Service: "civil.person", Purpose: "benefit-check",
		Persons: []string{"BE-85073100123"}, Fields: []string{"name", "birth_date", "address"},
		Decision: Permit, Reasons: []string{"authorization FUND-7 in force"},
		Authorization: "FUND-7", Outcome: "answered", Status: 200, LatencyMicros: 1834,
		RequestHash:  HashHex([]byte("request")),
		ResponseHash: HashHex([]byte("response")),
	}
}

// encoded keeps benchmark results alive, so that their buffers escape as in Append.
var encoded []byte

func BenchmarkEncodeRecord(b *testing.B) {
	r, err := prepare(benchRecord(), time.Now)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if encoded, err = json.Marshal(&r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if encoded, err = encodeSeqless(&r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
