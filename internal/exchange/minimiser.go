package exchange

import (
	"bytes"

	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// Minimiser is MinimiseJSON for many records under the same fields (a batch chunk's):
// what the fields allow of each member name is worked out once, and the records are
// written one after the other into one buffer. It gives MinimiseJSON's bytes exactly
// (FuzzMinimiser). Not safe for concurrent use.
type Minimiser struct {
	fields  []string
	memo    map[string]*verdict
	members []plainMember // scratch
}

// verdict is what the fields allow of a member: nothing (drop), all of it (whole), or
// some of an object (child).
type verdict struct {
	drop, whole bool
	child       *Minimiser
}

type plainMember struct{ name, value []byte }

// NewMinimiser returns a Minimiser for fields.
func NewMinimiser(fields []string) *Minimiser {
	return &Minimiser{fields: fields, memo: map[string]*verdict{}, members: make([]plainMember, 0, 32)}
}

// Keep says what fields allow of the member name: nothing (nil), all of it (an empty
// list), or the listed parts of an object; as Allowed, remembered.
func (m *Minimiser) Keep(name []byte) []string {
	v := m.verdict(name)
	switch {
	case v.drop:
		return nil
	case v.whole:
		return []string{}
	}
	return v.child.fields
}

func (m *Minimiser) verdict(name []byte) *verdict {
	if v, ok := m.memo[string(name)]; ok {
		return v
	}
	sub := Allowed(string(name), m.fields)
	v := &verdict{drop: sub == nil, whole: sub != nil && len(sub) == 0}
	if len(sub) > 0 {
		v.child = NewMinimiser(sub)
	}
	if len(m.memo) < 256 { // the names of one kind of record; a hostile source's are not kept
		m.memo[string(name)] = v
	}
	return v
}

// Append appends the record minimised, as MinimiseJSON writes it; ok is false, with dst
// unchanged, if the record is not a JSON object.
func (m *Minimiser) Append(dst, record []byte) (_ []byte, ok bool) {
	if out, ok := m.appendPlain(dst, record); ok {
		return out, true
	}
	out, ok := MinimiseJSON(record, m.fields)
	if !ok {
		return dst, false
	}
	return append(dst, out...), true
}

// appendPlain is minimisePlain into dst, with the remembered verdicts.
func (m *Minimiser) appendPlain(dst, record []byte) ([]byte, bool) {
	members := m.members[:0]
	ok := rawjson.EachPlainMember(record, func(name, v []byte) bool {
		if len(members) == cap(members) || bytes.ContainsAny(name, "<>&") {
			return false
		}
		for _, mb := range members {
			if bytes.Equal(mb.name, name) {
				return false
			}
		}
		members = append(members, plainMember{name, v})
		return true
	})
	m.members = members[:0]
	if !ok {
		return dst, false
	}
	start := len(dst)
	dst = append(dst, '{')
	for _, mb := range members {
		var vd *verdict
		if !bytes.HasPrefix(mb.name, []byte("@")) {
			if vd = m.verdict(mb.name); vd.drop {
				continue
			}
		}
		mark := len(dst)
		if mark > start+1 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, mb.name...)
		dst = append(dst, '"', ':')
		if vd == nil || vd.child == nil {
			dst = append(dst, mb.value...)
			continue
		}
		at := len(dst)
		var isObject bool
		if dst, isObject = vd.child.Append(dst, mb.value); !isObject || len(dst)-at == 2 {
			dst = dst[:mark] // not an object, or nothing of it kept
		}
	}
	return append(dst, '}'), true
}
