package dci

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
	"pgregory.net/rapid"
)

// Canonical is held to an independent implementation of RFC 8785, github.com/gowebpki/jcs
// (Anders Rundgren's, the RFC's co-author, as maintained by gowebpki), pulled in for the
// tests only: its test vectors, a fuzz target and a property over generated JSON values.

// jcsVectors returns the folder of the RFC 8785 test vectors the jcs module ships
// (testdata/input/*.json and the canonical testdata/output/*.json).
func jcsVectors(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "github.com/gowebpki/jcs").Output()
	if err != nil {
		t.Fatalf("go list -m github.com/gowebpki/jcs (its folder holds the RFC 8785 test vectors): %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "testdata")
}

// TestCanonicalVectors: the RFC 8785 test vectors (arrays, french, structures, unicode,
// values, weird, …) come out byte for byte.
func TestCanonicalVectors(t *testing.T) {
	dir := jcsVectors(t)
	inputs, err := filepath.Glob(filepath.Join(dir, "input", "*.json"))
	if err != nil || len(inputs) < 8 {
		t.Fatalf("RFC 8785 vectors in %s: %d found (%v); want the module's 10", dir, len(inputs), err)
	}
	for _, in := range inputs {
		name := filepath.Base(in)
		src, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(dir, "output", name))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Canonical(src); err != nil || !bytes.Equal(got, want) {
			t.Errorf("Canonical(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
}

// FuzzCanonicalJCS: Canonical and jcs.Transform agree on every input: the same bytes
// when both accept it, and the same verdict, but where RFC 8785 lets them differ
// (agreeJCS).
func FuzzCanonicalJCS(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[true,null,"x\u00e9"],"c":{"z":1.50,"y":-0}}`, `[1e21,1e-7,10.0]`, `{"a":1,"a":2}`,
		` {"k" : "v\"}"} `, `"\ud83d\ude00"`, `{"\u00e9":1,"e":2}`, `[[[[]]]]`, `12`, `{"a":{"b":[1,{"c":"\n"}]}}`,
		`{"\u0061":1,"a":2}`, `[-0,0,1234567890123456,123456789012345,-5,0.5,-12,100e2]`, `{"\ue000":1,"\ud83d\ude00":2,"z":3}`,
		"[\"\xff\",\"caf\xc3\xa9\"]", `{"b":{"d":1,"c":2},"a":[{"y":1,"x":2}]}`, `"\ud800"`, `"\udc00\ud800"`, `["\u0000\u001f\u007f"]`,
		`[9007199254740993,1e400,4.35,0.000001,1e-7,333333333.33333329,1E30]`, `[01]`, `[1.]`, `{"a":1,}`, `[1] x`, "\"\x7f\"",
		`{"header":{"version":"1.0.0","message_id":"m1","action":"search"},"message":{"transaction_id":"t1","search_request":[]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err1 := Canonical(b)
		want, err2 := jcs.Transform(b)
		if !agreeJCS(b, got, err1, want, err2) {
			t.Fatalf("Canonical(%q) = %q, %v; jcs.Transform: %q, %v", b, got, err1, want, err2)
		}
	})
}

// agreeJCS reports whether Canonical's result (got, err1) agrees with jcs.Transform's
// (want, err2) on input b. Both refuse what is not JSON, and both refuse lone surrogates
// and invalid UTF-8 (RFC 8785 §3.2.2.2: such data MUST end in an error). One difference
// is allowed: Canonical refuses nesting deeper than maxCanonDepth (jcs allows 10,000;
// the RFC sets no bound).
func agreeJCS(b, got []byte, err1 error, want []byte, err2 error) bool {
	switch {
	case err1 == nil && err2 == nil:
		return bytes.Equal(got, want)
	case err1 != nil && err2 != nil:
		return true
	case err1 != nil:
		return strings.Contains(err1.Error(), "nested deeper")
	}
	return false
}

// jsonValue draws a JSON value of at most depth levels: what DCI messages hold and the
// corners of RFC 8785 (names that sort differently in UTF-16, characters above U+FFFF,
// control characters, numbers at the edges of a double's formatting).
func jsonValue(depth int) *rapid.Generator[any] {
	return rapid.Custom(func(t *rapid.T) any {
		kinds := []string{"null", "bool", "int", "float", "string"}
		if depth > 0 {
			kinds = append(kinds, "array", "object")
		}
		switch rapid.SampledFrom(kinds).Draw(t, "kind") {
		case "null":
			return nil
		case "bool":
			return rapid.Bool().Draw(t, "bool")
		case "int":
			return json.Number(strconv.FormatInt(rapid.Int64Range(-1<<53, 1<<53).Draw(t, "int"), 10))
		case "float":
			return json.Number(rapid.SampledFrom([]string{"0.1", "1e21", "1e20", "1e-7", "0.000001", "-0", "5e-324",
				"1.7976931348623157e308", "333333333.33333329", "4.50", "2e-3", "1E30", "100", "1.0"}).Draw(t, "float"))
		case "string":
			return jsonString().Draw(t, "string")
		case "array":
			return rapid.SliceOfN(jsonValue(depth-1), 0, 4).Draw(t, "array")
		}
		obj := map[string]any{}
		for _, k := range rapid.SliceOfNDistinct(memberName(), 0, 5, rapid.ID[string]).Draw(t, "names") {
			obj[k] = jsonValue(depth-1).Draw(t, "member")
		}
		return obj
	})
}

// jsonString draws a string of valid Unicode from alphabets that matter to RFC 8785.
func jsonString() *rapid.Generator[string] {
	return rapid.StringOfN(rapid.SampledFrom([]rune{'a', 'b', 'B', '1', ' ', '"', '\\', '/', '\n', '\t', 0, 0x1f, 0x7f,
		'é', '€', 0x2028, 0xe000, 0xffff, 0xfffd, 0x1f600, 0x10ffff}), 0, 6, -1)
}

// memberName draws an object's member name from few characters, so that names share
// prefixes and differ where UTF-16 and UTF-8 orders do (U+E000–U+FFFF against the
// characters above U+FFFF).
func memberName() *rapid.Generator[string] {
	return rapid.StringOfN(rapid.SampledFrom([]rune{'a', 'B', 'é', 0xe000, 0xfffd, 0x1f600, 0x10ffff}), 0, 3, -1)
}

// writeJSON writes v as JSON in a shape of its own drawn by t (members out of order,
// whitespace, characters escaped as \u or not), so that canonicalisation has work.
func writeJSON(t *rapid.T, buf *bytes.Buffer, v any) {
	space := func() {
		buf.WriteString(rapid.SampledFrom([]string{"", "", " ", "\n\t", "\r\n  "}).Draw(t, "space"))
	}
	space()
	switch v := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(v))
	case json.Number:
		buf.WriteString(string(v))
	case string:
		writeQuoted(t, buf, v)
	case []any:
		buf.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSON(t, buf, e)
		}
		buf.WriteByte(']')
	case map[string]any:
		names := make([]string, 0, len(v))
		for k := range v {
			names = append(names, k)
		}
		names = rapid.Permutation(sortedStrings(names)).Draw(t, "order")
		buf.WriteByte('{')
		for i, k := range names {
			if i > 0 {
				buf.WriteByte(',')
			}
			space()
			writeQuoted(t, buf, k)
			space()
			buf.WriteByte(':')
			writeJSON(t, buf, v[k])
		}
		buf.WriteByte('}')
	}
	space()
}

// writeQuoted writes s as a JSON string, escaping each character as \u when t says so
// (characters above U+FFFF as a surrogate pair) and the ones JSON requires always.
func writeQuoted(t *rapid.T, buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	for _, r := range s {
		switch {
		case rapid.Bool().Draw(t, "escape"):
			if r > 0xffff {
				r -= 0x10000
				fmt.Fprintf(buf, `\u%04X\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			} else {
				fmt.Fprintf(buf, `\u%04x`, r)
			}
		case r == '"' || r == '\\':
			buf.WriteByte('\\')
			buf.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(buf, `\u%04x`, r)
		default:
			buf.WriteRune(r)
		}
	}
	buf.WriteByte('"')
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// TestCanonicalAgreesWithJCS: for JSON values written in any order, spacing and escaping,
// Canonical succeeds and writes what jcs.Transform writes, and its output is canonical
// already (a second pass changes nothing) and valid UTF-8.
func TestCanonicalAgreesWithJCS(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var buf bytes.Buffer
		writeJSON(t, &buf, jsonValue(3).Draw(t, "value"))
		b := buf.Bytes()
		got, err := Canonical(b)
		if err != nil {
			t.Fatalf("Canonical(%q): %v", b, err)
		}
		want, err := jcs.Transform(b)
		if err != nil {
			t.Fatalf("jcs.Transform(%q): %v", b, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("Canonical(%q) = %q; jcs.Transform: %q", b, got, want)
		}
		if again, err := Canonical(got); err != nil || !bytes.Equal(again, got) || !utf8.Valid(got) {
			t.Fatalf("Canonical(%q) = %q, %v; want it unchanged, valid UTF-8", got, again, err)
		}
	})
}
