package exchange

import (
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
		v := m.value
		if !strings.HasPrefix(m.name, "@") {
			sub := Allowed(m.name, fields)
			if sub == nil {
				continue
			}
			if len(sub) > 0 {
				kept, isObject := MinimiseJSON(v, sub)
				if !isObject || len(kept) == 2 { // not an object, or nothing of it kept
					continue
				}
				v = kept
			}
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
