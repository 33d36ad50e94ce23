// Package rawjson splits JSON without decoding it: the members of an object, the elements
// of an array, where a value ends, a string's text. Values are sub-slices of the input,
// not copies.
//
// The splitter trusts that what it is given is part of a valid document and only finds
// where values end (json.Valid it once, then split its levels as often as needed). On
// anything else it never panics or loops, but may answer differently from encoding/json.
// FuzzSplit checks that on valid JSON it answers exactly as encoding/json does.
package rawjson

import (
	"bytes"
	"encoding/json"
	"slices"
	"unicode/utf8"
)

// IsNull reports whether b is the JSON null.
func IsNull(b []byte) bool { return string(bytes.TrimSpace(b)) == "null" }

// Fields splits a JSON object into its members, as json.Unmarshal into a
// map[string]json.RawMessage would: the last of duplicate names wins. It returns nil for
// anything but an object. Values share b's bytes.
func Fields(b json.RawMessage) map[string]json.RawMessage {
	m := make(map[string]json.RawMessage, 8)
	if !EachMember(b, func(name string, v []byte) bool { m[name] = v; return true }) {
		return nil
	}
	return m
}

// EachMember calls fn with each member of the JSON object b, in order, until fn returns
// false; it reports whether b is an object (and fn never stopped).
func EachMember(b []byte, fn func(name string, v []byte) bool) bool {
	return eachMember(b, func(q, v []byte) bool {
		name, ok := Unquote(q)
		return ok && fn(name, v)
	})
}

// EachPlainMember is EachMember without a string made of each name: fn gets the name
// as the bytes of b between its quotes. It reports false, as EachMember does for what
// is not an object, as soon as a name is not plain (printable ASCII without escapes, as
// every name the hub writes is), so that its caller can turn to EachMember.
func EachPlainMember(b []byte, fn func(name, v []byte) bool) bool {
	return eachMember(b, func(q, v []byte) bool {
		name := q[1 : len(q)-1]
		return plain(name) && fn(name, v)
	})
}

// eachMember calls fn with each member's name, quoted as it is in b, and value.
func eachMember(b []byte, fn func(q, v []byte) bool) bool {
	i := SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return true
	}
	for i < len(b) {
		if b[i] != '"' {
			return false
		}
		end := stringEnd(b, i)
		if end < 0 {
			return false
		}
		q := b[i:end:end]
		i = SkipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		start := SkipSpace(b, i+1)
		end = ValueEnd(b, start)
		if end < 0 || !fn(q, b[start:end:end]) {
			return false
		}
		i = SkipSpace(b, end)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case '}':
			return true
		case ',':
			i = SkipSpace(b, i+1)
		default:
			return false
		}
	}
	return false
}

// Elements splits a JSON array into its values, as json.Unmarshal into a
// []json.RawMessage would. ok is false for anything but an array (null gives nil, true).
func Elements(b json.RawMessage) (list []json.RawMessage, ok bool) {
	i := SkipSpace(b, 0)
	if IsNull(b) {
		return nil, true
	}
	if i >= len(b) || b[i] != '[' {
		return nil, false
	}
	list = []json.RawMessage{}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return list, true
	}
	for i < len(b) {
		end := ValueEnd(b, i)
		if end < 0 {
			return nil, false
		}
		list = append(list, b[i:end:end])
		i = SkipSpace(b, end)
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case ']':
			return list, true
		case ',':
			i = SkipSpace(b, i+1)
		default:
			return nil, false
		}
	}
	return nil, false
}

// SkipSpace returns the index of the first byte at or after i that is not JSON white space.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string that starts at b[i] ('"'), or -1.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// ValueEnd returns the index just past the value that starts at b[i], or -1.
func ValueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				j := stringEnd(b, i)
				if j < 0 {
					return -1
				}
				i = j - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	case ',', ':', '}', ']':
		return -1
	}
	j := i // a number, true, false or null
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}

// Unquote reads a JSON string. Plain ASCII without escapes, most of what a message holds,
// is copied as it is; anything else goes through encoding/json.
func Unquote(q []byte) (string, bool) {
	q = bytes.TrimSpace(q)
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", false
	}
	if plain(q[1 : len(q)-1]) {
		return string(q[1 : len(q)-1]), true
	}
	var s string
	if json.Unmarshal(q, &s) != nil {
		return "", false
	}
	return s, true
}

// Member returns the value of the member name of the JSON object b (the last, if the name
// repeats, as encoding/json reads it); ok is false if there is none or b is no object.
func Member(b []byte, name string) (v []byte, ok bool) {
	i := SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	for i = SkipSpace(b, i+1); i < len(b) && b[i] == '"'; {
		end := stringEnd(b, i)
		if end < 0 {
			return nil, false
		}
		q := b[i+1 : end-1]
		match := string(q) == name // no copy
		if !match && !plain(q) {
			n, _ := Unquote(b[i:end])
			match = n == name
		}
		i = SkipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		start := SkipSpace(b, i+1)
		end = ValueEnd(b, start)
		if end < 0 {
			return nil, false
		}
		if match {
			v, ok = b[start:end:end], true
		}
		if i = SkipSpace(b, end); i < len(b) && b[i] == ',' {
			i = SkipSpace(b, i+1)
		}
	}
	return v, ok
}

// AppendString appends s as a JSON string, byte for byte as json.Marshal(s) writes it:
// the stored audit records are hashed, so the two must never differ.
func AppendString(dst []byte, s string) []byte {
	dst = slices.Grow(dst, len(s)+2)
	dst = append(dst, '"')
	start := 0 // s[start:i] is safe and not yet copied
	for i := 0; i < len(s); {
		for i < len(s) && safeByte[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		if c := s[i]; c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default: // other control bytes, and <, > and & as encoding/json escapes them for HTML
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029': // valid JSON, but not JavaScript (JSONP)
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// safeByte holds the bytes AppendString copies as they are: printable ASCII (and DEL)
// except the quote, the backslash and the HTML characters encoding/json escapes.
var safeByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// plain says whether the text of a JSON string is itself: printable ASCII, no escapes.
func plain(q []byte) bool {
	for _, c := range q {
		if c < 0x20 || c >= 0x80 || c == '\\' || c == '"' {
			return false
		}
	}
	return true
}
