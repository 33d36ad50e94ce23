package dci

import (
	"bytes"
	"encoding/json"
)

// The decoder reads a message level by level (envelope, header, message, items, criteria,
// query), keeping each member raw until its level is read. With encoding/json every level
// would scan its bytes again, twice (validate, then decode), and copy them: the query of a
// search would be scanned a dozen times. Instead the body is validated once, by
// SplitEnvelope, and the levels below are split by the scanner here, which trusts that
// what it is given is a part of a valid document and only finds where values end. On
// anything else it never panics or loops, but may answer differently from encoding/json:
// exported functions that take raw JSON from elsewhere validate it first (json.Valid).
// FuzzSplit checks that on valid JSON it answers exactly as encoding/json does.

// fields splits a JSON object into its members, as json.Unmarshal into a
// map[string]json.RawMessage would: the last of duplicate names wins. It returns nil for
// anything but an object. Values share b's bytes.
func fields(b json.RawMessage) map[string]json.RawMessage {
	m := make(map[string]json.RawMessage, 8)
	if !eachMember(b, func(name string, v []byte) bool { m[name] = v; return true }) {
		return nil
	}
	return m
}

// eachMember calls fn with each member of the JSON object b, in order, until fn returns
// false; it reports whether b is an object (and fn never stopped).
func eachMember(b []byte, fn func(name string, v []byte) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
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
		name, ok := unquote(b[i:end])
		if !ok {
			return false
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		start := skipSpace(b, i+1)
		end = valueEnd(b, start)
		if end < 0 || !fn(name, b[start:end:end]) {
			return false
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case '}':
			return true
		case ',':
			i = skipSpace(b, i+1)
		default:
			return false
		}
	}
	return false
}

// elements splits a JSON array into its values, as json.Unmarshal into a
// []json.RawMessage would. ok is false for anything but an array (null gives nil, true).
func elements(b json.RawMessage) (list []json.RawMessage, ok bool) {
	i := skipSpace(b, 0)
	if isNull(b) {
		return nil, true
	}
	if i >= len(b) || b[i] != '[' {
		return nil, false
	}
	list = []json.RawMessage{}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return list, true
	}
	for i < len(b) {
		end := valueEnd(b, i)
		if end < 0 {
			return nil, false
		}
		list = append(list, b[i:end:end])
		i = skipSpace(b, end)
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case ']':
			return list, true
		case ',':
			i = skipSpace(b, i+1)
		default:
			return nil, false
		}
	}
	return nil, false
}

func skipSpace(b []byte, i int) int {
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

// valueEnd returns the index just past the value that starts at b[i], or -1.
func valueEnd(b []byte, i int) int {
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

// unquote reads a JSON string. Plain ASCII without escapes, most of what a message holds,
// is copied as it is; anything else goes through encoding/json.
func unquote(q []byte) (string, bool) {
	q = bytes.TrimSpace(q)
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", false
	}
	plain := true
	for _, c := range q[1 : len(q)-1] {
		if c < 0x20 || c >= 0x80 || c == '\\' || c == '"' {
			plain = false
			break
		}
	}
	if plain {
		return string(q[1 : len(q)-1]), true
	}
	var s string
	if json.Unmarshal(q, &s) != nil {
		return "", false
	}
	return s, true
}
