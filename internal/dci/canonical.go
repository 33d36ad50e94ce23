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
)

// Canonical writes the JSON value b in canonical form, following RFC 8785 (JSON
// Canonicalization Scheme): no insignificant whitespace; object members sorted by the
// UTF-16 code units of their names; strings with only ", \ and control characters escaped
// (\b \t \n \f \r, others as \u00xx) and everything else, non-ASCII included, written as
// UTF-8; numbers as ECMAScript writes a double (10, 2.5, 1e+21, 1e-7; 10.0 → 10).
// Duplicate member names are refused, as RFC 8785 requires.
//
// For the ASCII strings, integers and short decimals of DCI headers and messages, this is
// also what Python's json.dumps(sort_keys=True, separators=(",", ":")) writes; Python
// differs on non-ASCII strings (\u escapes, unless ensure_ascii=False) and on floats with a
// zero fraction (1.0). Integers beyond 2^53 lose precision, as in any double-based JSON.
func Canonical(b []byte) ([]byte, error) {
	if !json.Valid(b) {
		return nil, fmt.Errorf("canonical json: not one JSON value")
	}
	var out bytes.Buffer
	out.Grow(len(b))
	if err := canon(b, &out, 0); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// canon writes the valid JSON value b canonically. It reads b with the splitter of the
// decoder (split.go) rather than token by token: signing a callback or a notification
// canonicalises it, once per message (FuzzCanonical keeps it equal to the token reader).
func canon(b []byte, out *bytes.Buffer, depth int) error {
	if depth > maxCanonDepth {
		return fmt.Errorf("canonical json: nested deeper than %d", maxCanonDepth)
	}
	b = b[skipSpace(b, 0):]
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return fmt.Errorf("canonical json: empty value")
	}
	switch b[0] {
	case '{':
		return canonMembers(b, out, depth)
	case '[':
		list, ok := elements(b)
		if !ok {
			return fmt.Errorf("canonical json: bad array")
		}
		out.WriteByte('[')
		for i, e := range list {
			if i > 0 {
				out.WriteByte(',')
			}
			if err := canon(e, out, depth+1); err != nil {
				return err
			}
		}
		out.WriteByte(']')
	case '"':
		s, ok := unquote(b)
		if !ok {
			return fmt.Errorf("canonical json: bad string")
		}
		writeString(out, s)
	case 't', 'f', 'n':
		out.Write(b)
	default:
		n, err := esNumber(json.Number(b))
		if err != nil {
			return err
		}
		out.WriteString(n)
	}
	return nil
}

// canonMembers writes an object with its members sorted by the UTF-16 code units of their
// names, refusing duplicate names.
func canonMembers(b []byte, out *bytes.Buffer, depth int) error {
	type member struct {
		key  string
		u16  []uint16
		body []byte
	}
	var members []member
	seen := map[string]bool{}
	var err error
	ok := eachMember(b, func(name string, v []byte) bool {
		if seen[name] {
			err = fmt.Errorf("canonical json: duplicate member %.40q", name)
			return false
		}
		seen[name] = true
		var body bytes.Buffer
		if err = canon(v, &body, depth+1); err != nil {
			return false
		}
		members = append(members, member{name, utf16.Encode([]rune(name)), body.Bytes()})
		return true
	})
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("canonical json: bad object")
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

// SignedContent is what both signature schemes sign: the canonical JSON of
// {"header": header, "message": message}.
func SignedContent(header, message json.RawMessage) ([]byte, error) {
	if len(bytes.TrimSpace(message)) == 0 {
		message = json.RawMessage("null")
	}
	// Each part must be one JSON value, or a crafted part could add members of its own.
	if !json.Valid(header) || !json.Valid(message) {
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
