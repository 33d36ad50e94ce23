package dciclient

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"unicode"

	"pgregory.net/rapid"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// plainRunes is ASCII without <, > and &: strings of these are written byte for byte as
// json.Marshal writes them.
var plainRunes = rapid.RuneFrom(nil, &unicode.RangeTable{R16: []unicode.Range16{
	{Lo: 0, Hi: '&' - 1, Stride: 1}, {Lo: '&' + 1, Hi: '<' - 1, Stride: 1}, {Lo: '=', Hi: '=', Stride: 1}, {Lo: '>' + 1, Hi: 0x7f, Stride: 1},
}})

func drawString(t *rapid.T, plain bool, label string) string {
	if plain {
		return rapid.StringOfN(plainRunes, 0, 12, -1).Draw(t, label)
	}
	if rapid.Bool().Draw(t, label+" as bytes") {
		return string(rapid.SliceOfN(rapid.Byte(), 0, 12).Draw(t, label))
	}
	return rapid.StringN(0, 12, -1).Draw(t, label)
}

func drawCond(t *rapid.T, plain bool, depth int) *query.Cond {
	ops := []string{query.Eq, query.Lt, query.Le, query.Gt, query.Ge, query.In}
	if depth < 3 {
		ops = append(ops, query.And, query.Or, query.Not)
	}
	c := &query.Cond{Op: rapid.SampledFrom(ops).Draw(t, "op")}
	switch c.Op {
	case query.And, query.Or:
		c.Args = make([]*query.Cond, rapid.IntRange(0, 3).Draw(t, "args"))
		for i := range c.Args {
			c.Args[i] = drawCond(t, plain, depth+1)
		}
	case query.Not:
		c.Args = []*query.Cond{drawCond(t, plain, depth+1)}
	case query.In:
		c.Attr = drawString(t, plain, "attr")
		list := make([]string, rapid.IntRange(0, 3).Draw(t, "values"))
		for i := range list {
			list[i] = drawString(t, plain, "value")
		}
		c.Value = list
	default:
		c.Attr = drawString(t, plain, "attr")
		c.Value = rapid.OneOf(
			rapid.Map(rapid.Float64Range(-1e9, 1e9), func(f float64) any { return f }),
			rapid.Map(rapid.Bool(), func(b bool) any { return b }),
			rapid.Just[any](drawString(t, plain, "value")),
		).Draw(t, "value")
	}
	return c
}

// TestAppendJSONMatchesMarshal: the search sent to a source decodes to what json.Marshal's
// does, and is byte for byte json.Marshal's when its strings are plain.
func TestAppendJSONMatchesMarshal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		plain := rapid.Bool().Draw(t, "plain")
		r := exchange.SourceRequest{Service: drawString(t, plain, "service")}
		if rapid.Bool().Draw(t, "by id") {
			r.Query = query.Query{Kind: query.KindID, IDType: drawString(t, plain, "id type"), IDValue: drawString(t, plain, "id value")}
		} else {
			r.Query = query.Query{Kind: query.KindFilter}
			if rapid.Bool().Draw(t, "filter") {
				r.Query.Filter = drawCond(t, plain, 0)
			}
		}
		r.Query.Page, r.Query.PageSize = rapid.IntRange(0, 1000).Draw(t, "page"), rapid.IntRange(0, 100).Draw(t, "page_size")
		if n := rapid.IntRange(-1, 3).Draw(t, "fields"); n >= 0 { // -1: nil fields
			r.Fields = make([]string, n)
			for i := range r.Fields {
				r.Fields[i] = drawString(t, plain, "field")
			}
		}
		if rapid.Bool().Draw(t, "on a day") {
			r.Day = date.Of(rapid.IntRange(1900, 2100).Draw(t, "year"), rapid.IntRange(1, 12).Draw(t, "month"), rapid.IntRange(1, 28).Draw(t, "day"))
		}
		m := envelope(drawString(t, plain, "sender"), r)
		if rapid.Bool().Draw(t, "async") {
			m.Header.SenderURI = drawString(t, plain, "sender_uri")
		}
		m.Signature = drawString(t, plain, "signature")

		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.appendJSON([]byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != 'x' {
			t.Fatalf("appendJSON overwrote dst: %s", got)
		}
		got = got[1:]
		if plain && !bytes.Equal(got, want) {
			t.Fatalf("appendJSON =\n%s\njson.Marshal =\n%s", got, want)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("appendJSON wrote invalid JSON (%v):\n%s", err, got)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("appendJSON =\n%s\njson.Marshal =\n%s", got, want)
		}
	})
}

func TestAppendJSONError(t *testing.T) {
	m := envelope("hub", exchange.SourceRequest{Query: query.Query{Kind: query.KindFilter,
		Filter: &query.Cond{Op: query.Eq, Attr: "a", Value: make(chan int)}}})
	if b, err := m.appendJSON(nil); err == nil {
		t.Errorf("appendJSON of an unencodable value = %s", b)
	}
}

// sink keeps the body on the heap, as sending it does.
var sink []byte

func BenchmarkAppendJSON(b *testing.B) {
	m := envelope("crossroads", exchange.SourceRequest{Service: "civil", Fields: []string{"person", "name", "birth_date"},
		Query: query.Query{Kind: query.KindID, IDType: "UIN", IDValue: "847951632", Page: 1, PageSize: 10}})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if sink, err = json.Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if sink, err = m.appendJSON(make([]byte, 0, 1024)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
