package exchange

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// RawRecord is a record as a source sent it, a JSON object, with the person it concerns
// (its "person" member): a remote source's answer is minimised without being decoded.
type RawRecord struct {
	Person string
	JSON   []byte // a valid JSON object
}

// MinimiseJSON is Minimise on a record kept as JSON: it returns the object holding only
// the members the fields allow, in their order, their values copied as they are. A
// repeated member counts once, the last (as a decoder reads it). ok is false if record is
// not a JSON object. The record must be valid JSON (json.Valid).
func MinimiseJSON(record []byte, fields []string) (out json.RawMessage, ok bool) {
	if out, ok := minimisePlain(record, fields); ok {
		return out, true
	}
	type member struct {
		name  string
		value []byte
	}
	members := make([]member, 0, 16)
	ok = rawjson.EachMember(record, func(name string, v []byte) bool {
		for i := range members {
			if members[i].name == name {
				members = append(members[:i], members[i+1:]...)
				break
			}
		}
		members = append(members, member{name, v})
		return true
	})
	if !ok {
		return nil, false
	}
	out = make([]byte, 0, len(record))
	out = append(out, '{')
	for _, m := range members {
		v, keep := minimiseMember(m.name, m.value, fields)
		if !keep {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = rawjson.AppendString(out, m.name)
		out = append(out, ':')
		out = append(out, v...)
	}
	return append(out, '}'), true
}

// minimisePlain is MinimiseJSON for the common record, the one every source the hub
// knows writes: at most 32 members, their names plain (rawjson.EachPlainMember) and
// without the characters encoding/json escapes, none repeated. It reads no name into a
// string; ok is false for any other record, which MinimiseJSON then reads its own way.
func minimisePlain(record []byte, fields []string) (out json.RawMessage, ok bool) {
	type member struct{ name, value []byte }
	members := make([]member, 0, 32)
	ok = rawjson.EachPlainMember(record, func(name, v []byte) bool {
		if len(members) == cap(members) || bytes.ContainsAny(name, "<>&") {
			return false
		}
		for _, m := range members {
			if bytes.Equal(m.name, name) {
				return false
			}
		}
		members = append(members, member{name, v})
		return true
	})
	if !ok {
		return nil, false
	}
	out = make([]byte, 0, len(record))
	out = append(out, '{')
	for _, m := range members {
		v, keep := minimiseMember(string(m.name), m.value, fields)
		if !keep {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, m.name...)
		out = append(out, '"', ':')
		out = append(out, v...)
	}
	return append(out, '}'), true
}

// minimiseMember is what of one member's value the fields keep: all of it (an "@"
// member, or a field granted whole), the granted part of an object, or nothing.
func minimiseMember(name string, v []byte, fields []string) ([]byte, bool) {
	if strings.HasPrefix(name, "@") {
		return v, true
	}
	sub := Allowed(name, fields)
	if sub == nil {
		return nil, false
	}
	if len(sub) > 0 {
		kept, isObject := MinimiseJSON(v, sub)
		if !isObject || len(kept) == 2 { // not an object, or nothing of it kept
			return nil, false
		}
		return kept, true
	}
	return v, true
}
