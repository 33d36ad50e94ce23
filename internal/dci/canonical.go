package dci

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// Canonical writes the JSON value b in canonical form, following RFC 8785 (JSON
// Canonicalization Scheme): no insignificant whitespace; object members sorted by the
// UTF-16 code units of their names; strings with only ", \ and control characters escaped
// (\b \t \n \f \r, others as \u00xx) and everything else, non-ASCII included, written as
// UTF-8; numbers as ECMAScript writes a double (10, 2.5, 1e+21, 1e-7; 10.0 → 10).
// Duplicate member names are refused, as RFC 8785 requires, and so are strings that are not
// valid Unicode (invalid UTF-8, lone surrogates).
//
// For the ASCII strings, integers and short decimals of DCI headers and messages, this is
// also what Python's json.dumps(sort_keys=True, separators=(",", ":")) writes; Python
// differs on non-ASCII strings (\u escapes, unless ensure_ascii=False) and on floats with a
// zero fraction (1.0). Integers beyond 2^53 lose precision, as in any double-based JSON.
func Canonical(b []byte) ([]byte, error) {
	if !rawjson.Valid(b) {
		return nil, fmt.Errorf("canonical json: not one JSON value")
	}
	return appendCanon(make([]byte, 0, len(b)), b, 0)
}

// appendCanon appends the valid JSON value b in canonical form to dst. It reads b with
// the splitter of the decoder (internal/rawjson), copies what is already canonical (plain
// strings, short integers) as it is, and writes an object's members in one buffer,
// reordering them only when they are not sorted: signing a callback or a notification
// canonicalises it, once per message (FuzzCanonical keeps it equal to the token reader).
func appendCanon(dst, b []byte, depth int) ([]byte, error) {
	if depth > maxCanonDepth {
		return nil, fmt.Errorf("canonical json: nested deeper than %d", maxCanonDepth)
	}
	b = b[rawjson.SkipSpace(b, 0):]
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("canonical json: empty value")
	}
	switch b[0] {
	case '{':
		return appendCanonObject(dst, b, depth)
	case '[':
		dst = append(dst, '[')
		i := rawjson.SkipSpace(b, 1)
		for n := 0; i < len(b) && b[i] != ']'; n++ {
			end := rawjson.ValueEnd(b, i)
			if end < 0 {
				return nil, fmt.Errorf("canonical json: bad array")
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendCanon(dst, b[i:end], depth+1); err != nil {
				return nil, err
			}
			if i = rawjson.SkipSpace(b, end); i < len(b) && b[i] == ',' {
				i = rawjson.SkipSpace(b, i+1)
			}
		}
		return append(dst, ']'), nil
	case '"':
		return appendCanonString(dst, b)
	case 't', 'f', 'n':
		return append(dst, b...), nil
	}
	if plainInteger(b) {
		return append(dst, b...), nil
	}
	n, err := esNumber(json.Number(b))
	if err != nil {
		return nil, err
	}
	return append(dst, n...), nil
}

// member is where an object's member was written, and its name.
type member struct {
	name []byte // unescaped
	s, e int    // its canonical "name":value in the output
}

// appendCanonObject appends an object with its members sorted by the UTF-16 code units of
// their names, refusing duplicate names.
func appendCanonObject(dst, b []byte, depth int) ([]byte, error) {
	start := len(dst)
	dst = append(dst, '{')
	var buf [16]member
	members := buf[:0]
	i := rawjson.SkipSpace(b, 1)
	for i < len(b) && b[i] != '}' {
		kend := rawjson.ValueEnd(b, i)
		if b[i] != '"' || kend < 0 {
			return nil, fmt.Errorf("canonical json: bad object")
		}
		raw := b[i:kend]
		name := raw[1 : len(raw)-1]
		if !plainString(name) {
			s, ok := rawjson.Unquote(raw)
			if !ok {
				return nil, fmt.Errorf("canonical json: bad member name")
			}
			name = []byte(s)
		}
		i = rawjson.SkipSpace(b, kend)
		if i >= len(b) || b[i] != ':' {
			return nil, fmt.Errorf("canonical json: bad object")
		}
		vstart := rawjson.SkipSpace(b, i+1)
		vend := rawjson.ValueEnd(b, vstart)
		if vend < 0 {
			return nil, fmt.Errorf("canonical json: bad object")
		}
		if len(members) > 0 {
			dst = append(dst, ',')
		}
		s := len(dst)
		var err error
		if dst, err = appendCanonString(dst, raw); err != nil {
			return nil, err
		}
		dst = append(dst, ':')
		if dst, err = appendCanon(dst, b[vstart:vend], depth+1); err != nil {
			return nil, err
		}
		members = append(members, member{name, s, len(dst)})
		if i = rawjson.SkipSpace(b, vend); i < len(b) && b[i] == ',' {
			i = rawjson.SkipSpace(b, i+1)
		}
	}
	sorted := slices.IsSortedFunc(members, compareMembers)
	if !sorted {
		slices.SortStableFunc(members, compareMembers)
	}
	for k := 1; k < len(members); k++ {
		if bytes.Equal(members[k].name, members[k-1].name) {
			return nil, fmt.Errorf("canonical json: duplicate member %.40q", members[k].name)
		}
	}
	if !sorted {
		written := slices.Clone(dst[start:])
		dst = append(dst[:start], '{')
		for k, m := range members {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, written[m.s-start:m.e-start]...)
		}
	}
	return append(dst, '}'), nil
}

// compareMembers orders names by their UTF-16 code units. UTF-8 bytes sort as code
// points, which is the same order unless a name holds a character from U+E000 on (its
// UTF-8 starts with 0xEE or more): UTF-16 writes those above U+FFFF as surrogates, which
// sort before U+E000–U+FFFF.
func compareMembers(a, b member) int {
	if !highChar(a.name) && !highChar(b.name) {
		return bytes.Compare(a.name, b.name)
	}
	return slices.Compare(utf16.Encode([]rune(string(a.name))), utf16.Encode([]rune(string(b.name))))
}

func highChar(s []byte) bool {
	for _, c := range s {
		if c >= 0xEE {
			return true
		}
	}
	return false
}

// appendCanonString appends the JSON string q (quotes included) canonically: as it is when
// it has no escape and is valid UTF-8 (a valid JSON string holds no raw control character
// or quote), else unquoted and written again. A string that is not valid Unicode is
// refused (wellFormed).
func appendCanonString(dst, q []byte) ([]byte, error) {
	if len(q) >= 2 && plainString(q[1:len(q)-1]) {
		return append(dst, q...), nil
	}
	if !wellFormed(q) {
		return nil, fmt.Errorf("canonical json: string %.40q is not valid Unicode (invalid UTF-8 or a lone surrogate)", q)
	}
	s, ok := rawjson.Unquote(q)
	if !ok {
		return nil, fmt.Errorf("canonical json: bad string")
	}
	var out bytes.Buffer
	writeString(&out, s)
	return append(dst, out.Bytes()...), nil
}

// wellFormed reports whether the JSON string q (quotes included) is valid Unicode: valid
// UTF-8, and every \u escape of a surrogate one half of a pair. RFC 8785 takes I-JSON
// (RFC 7493: UTF-8, no lone surrogates) and requires lone surrogates to end in an error
// (§3.2.2.2); replacing them, or invalid bytes, by U+FFFD as a decoder does would give
// two different messages one canonical form, and so one signature.
func wellFormed(q []byte) bool {
	if !utf8.Valid(q) {
		return false
	}
	high := false // the previous escape was a high surrogate: a low one must follow
	for i := 0; i < len(q); i++ {
		if q[i] != '\\' || i+1 >= len(q) || q[i+1] != 'u' {
			if high {
				return false
			}
			if q[i] == '\\' {
				i++ // a one-character escape
			}
			continue
		}
		if i+6 > len(q) {
			return false
		}
		v, err := strconv.ParseUint(string(q[i+2:i+6]), 16, 16)
		if err != nil {
			return false
		}
		i += 5
		switch {
		case v >= 0xd800 && v < 0xdc00 && !high:
			high = true
		case v >= 0xdc00 && v < 0xe000 && high:
			high = false
		case v >= 0xd800 && v < 0xe000 || high:
			return false
		}
	}
	return !high
}

// plainString: the text of a JSON string without escapes, valid UTF-8.
func plainString(s []byte) bool {
	return bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s)
}

// plainInteger: an integer of at most 15 digits, written as ECMAScript writes it (no
// leading zero, no "-0"): exact in a double, so the same after a round trip.
func plainInteger(b []byte) bool {
	d := b
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 15 || (d[0] == '0' && (len(d) > 1 || len(b) > 1)) {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// SignedContent is what both signature schemes sign: the canonical JSON of
// {"header": header, "message": message}.
func SignedContent(header, message json.RawMessage) ([]byte, error) {
	if len(bytes.TrimSpace(message)) == 0 {
		message = json.RawMessage("null")
	}
	// Each part must be one JSON value, or a crafted part could add members of its own.
	if !rawjson.Valid(header) || !rawjson.Valid(message) {
		return nil, fmt.Errorf("canonical json: header or message is not a JSON value")
	}
	var b bytes.Buffer
	b.WriteString(`{"header":`)
	b.Write(header)
	b.WriteString(`,"message":`)
	b.Write(message)
	b.WriteString("}")
	return Canonical(b.Bytes())
}

const maxCanonDepth = 256

func writeString(out *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	out.WriteByte('"')
	for _, r := range s { // invalid UTF-8 was already replaced by U+FFFD when decoding
		switch {
		case r == '"' || r == '\\':
			out.WriteByte('\\')
			out.WriteRune(r)
		case r == '\b':
			out.WriteString(`\b`)
		case r == '\t':
			out.WriteString(`\t`)
		case r == '\n':
			out.WriteString(`\n`)
		case r == '\f':
			out.WriteString(`\f`)
		case r == '\r':
			out.WriteString(`\r`)
		case r < 0x20:
			out.WriteString(`\u00`)
			out.WriteByte(hex[r>>4])
			out.WriteByte(hex[r&0xf])
		default:
			out.WriteRune(r)
		}
	}
	out.WriteByte('"')
}

// esNumber writes n as ECMAScript's Number.prototype.toString does (RFC 8785 §3.2.2.3).
func esNumber(n json.Number) (string, error) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return "", fmt.Errorf("canonical json: number %.40s is not a finite double", n)
	}
	if f == 0 {
		return "0", nil
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// Shortest digits that round-trip, and the decimal exponent: f = 0.digits × 10^exp.
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±xx
	mant, exps, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exps)
	k, exp := len(digits), x+1
	switch {
	case k <= exp && exp <= 21:
		return sign + digits + strings.Repeat("0", exp-k), nil
	case 0 < exp && exp <= 21:
		return sign + digits[:exp] + "." + digits[exp:], nil
	case -6 < exp && exp <= 0:
		return sign + "0." + strings.Repeat("0", -exp) + digits, nil
	}
	es := "+"
	if exp-1 < 0 {
		es = "-"
	}
	m := digits[:1]
	if k > 1 {
		m += "." + digits[1:]
	}
	return sign + m + "e" + es + strconv.Itoa(abs(exp-1)), nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
