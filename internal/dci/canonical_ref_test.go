package dci

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// canonicalTokens is the first Canonical, which reads b token by token with
// encoding/json: the reference FuzzCanonical holds the faster one to.
func canonicalTokens(b []byte) ([]byte, error) {
	if !utf8.Valid(b) { // encoding/json would replace the invalid bytes
		return nil, fmt.Errorf("canonical json: not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out bytes.Buffer
	if err := canonValue(dec, &out, 0); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("canonical json: data after the value")
	}
	return out.Bytes(), nil
}

func canonValue(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	if depth > maxCanonDepth {
		return fmt.Errorf("canonical json: nested deeper than %d", maxCanonDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("canonical json: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return canonObject(dec, out, depth)
		}
		if t == '[' {
			return canonArray(dec, out, depth)
		}
		return fmt.Errorf("canonical json: unexpected %v", t)
	case string:
		writeString(out, t)
	case json.Number:
		s, err := esNumber(t)
		if err != nil {
			return err
		}
		out.WriteString(s)
	case bool:
		out.WriteString(strconv.FormatBool(t))
	case nil:
		out.WriteString("null")
	}
	return nil
}

func canonObject(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	type member struct {
		key  string
		u16  []uint16
		body []byte
	}
	var members []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("canonical json: %w", err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return fmt.Errorf("canonical json: duplicate member %.40q", key)
		}
		seen[key] = true
		var body bytes.Buffer
		if err := canonValue(dec, &body, depth+1); err != nil {
			return err
		}
		members = append(members, member{key, utf16.Encode([]rune(key)), body.Bytes()})
	}
	if _, err := dec.Token(); err != nil { // '}'
		return fmt.Errorf("canonical json: %w", err)
	}
	slices.SortFunc(members, func(a, b member) int { return slices.Compare(a.u16, b.u16) })
	out.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			out.WriteByte(',')
		}
		writeString(out, m.key)
		out.WriteByte(':')
		out.Write(m.body)
	}
	out.WriteByte('}')
	return nil
}

func canonArray(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	out.WriteByte('[')
	for i := 0; dec.More(); i++ {
		if i > 0 {
			out.WriteByte(',')
		}
		if err := canonValue(dec, out, depth+1); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		return fmt.Errorf("canonical json: %w", err)
	}
	out.WriteByte(']')
	return nil
}

// FuzzCanonical: Canonical and the token reader agree on every input, output and error,
// but on surrogate escapes: encoding/json turns a lone one into U+FFFD where Canonical
// refuses it (FuzzCanonicalJCS holds those to an implementation that refuses them too).
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[true,null,"x\u00e9"],"c":{"z":1.50,"y":-0}}`, `[1e21,1e-7,10.0]`, `{"a":1,"a":2}`,
		` {"k" : "v\"}"} `, `"\ud83d\ude00"`, `{"\u00e9":1,"e":2}`, `[[[[]]]]`, `12`, `{"a":{"b":[1,{"c":"\n"}]}}`,
		`{"\u0061":1,"a":2}`, `[-0,0,1234567890123456,123456789012345,-5,0.5,-12,100e2]`, `{"\ue000":1,"\ud83d\ude00":2,"z":3}`,
		"[\"\xff\",\"caf\xc3\xa9\"]", `{"b":{"d":1,"c":2},"a":[{"y":1,"x":2}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if surrogateEscape.Match(b) {
			return
		}
		got, err1 := Canonical(b)
		want, err2 := canonicalTokens(b)
		if (err1 == nil) != (err2 == nil) || !bytes.Equal(got, want) {
			t.Fatalf("Canonical(%q) = %q, %v; the token reader: %q, %v", b, got, err1, want, err2)
		}
	})
}

// surrogateEscape matches a \u escape of a surrogate (or text that looks like one).
var surrogateEscape = regexp.MustCompile(`\\u[dD][89a-fA-F]`)

func BenchmarkCanonical(b *testing.B) {
	body := []byte(`{"header":{"version":"1.0.0","message_id":"civil:5908/sub-pension-fund","message_ts":"2026-11-24T12:47:13.706Z","action":"notify","status":"succ","total_count":1,"completed_count":1,"sender_id":"crossroads","receiver_id":"PENSION-FUND"},"message":{"notify_event":[{"data":{"reg_event_type":"death","reg_record_type":"Person","reg_records":[{"@type":"Person","address":{"house_number":"4","municipality":"M0003","postal_code":"2500","region":"R03","street":"Queens Place"},"birth_date":"1929-01-03","death_date":"2026-11-24","family_name":"Deleu","given_name":"Victor","person":"29010300140"}],"reg_type":"ns:org:RegistryType:Civil","version":"1.0.0"},"locale":"eng","reference_id":"civil:5908/sub-pension-fund","timestamp":"2026-11-24T12:47:13.706Z"}],"transaction_id":"civil:5908/sub-pension-fund"}}`)
	for _, c := range []struct {
		name string
		fn   func([]byte) ([]byte, error)
	}{{"splitter", Canonical}, {"tokens", canonicalTokens}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.fn(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
