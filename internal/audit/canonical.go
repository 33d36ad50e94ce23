package audit

import (
	"bytes"
	"strconv"
	"time"

	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// parseCanonical reads bytes in the canonical form (appendRecord's: these members, in
// this order, nothing else) into a record, fast and strictly: ok is false at the first
// thing it does not expect. A caller compares the record's encoding with the bytes to
// know they are canonical: this parser accepts a little more (escapes, number forms).
func parseCanonical(b []byte) (r Record, ok bool) {
	p := canonicalParser{b: b, ok: true}
	r.Seq = p.int(`{"seq":`)
	if p.ok && p.lit(`,"time":`) {
		if s, ok := p.str(); ok {
			t, err := time.Parse(time.RFC3339Nano, s)
			r.Time, p.ok = t, err == nil
		} else {
			p.ok = false
		}
	}
	r.Client = p.text(`,"client":`)
	if p.ok && bytes.HasPrefix(p.b, []byte(`,"message_id":`)) {
		r.MessageID = p.text(`,"message_id":`)
	}
	r.Institution = p.text(`,"institution":`)
	r.Service = p.text(`,"service":`)
	r.Purpose = p.text(`,"purpose":`)
	r.Persons = p.texts(`,"persons":`)
	r.Fields = p.texts(`,"fields":`)
	r.Decision = p.text(`,"decision":`)
	r.Reasons = p.texts(`,"reasons":`)
	r.Authorization = p.text(`,"authorization":`)
	r.Outcome = p.text(`,"outcome":`)
	r.Status = int(p.int(`,"status":`))
	r.LatencyMicros = p.int(`,"latency_us":`)
	r.RequestHash = p.text(`,"request_hash":`)
	r.ResponseHash = p.text(`,"response_hash":`)
	r.Binding = p.text(`,"binding":`)
	return r, p.ok && p.lit(`}`) && len(p.b) == 0
}

// canonicalParser reads the canonical form; ok turns false at the first surprise, and
// reads after it return zeros.
type canonicalParser struct {
	b  []byte
	ok bool
}

// lit consumes the literal s.
func (p *canonicalParser) lit(s string) bool {
	if !bytes.HasPrefix(p.b, []byte(s)) {
		p.ok = false
		return false
	}
	p.b = p.b[len(s):]
	return true
}

// int consumes the member name (or prefix) then an integer.
func (p *canonicalParser) int(name string) int64 {
	if !p.ok || !p.lit(name) {
		return 0
	}
	i := 0
	if i < len(p.b) && p.b[i] == '-' {
		i++
	}
	for i < len(p.b) && p.b[i] >= '0' && p.b[i] <= '9' {
		i++
	}
	v, err := strconv.ParseInt(string(p.b[:i]), 10, 64)
	if err != nil {
		p.ok = false
		return 0
	}
	p.b = p.b[i:]
	return v
}

// str consumes a JSON string and returns its value.
func (p *canonicalParser) str() (string, bool) {
	if len(p.b) == 0 || p.b[0] != '"' {
		return "", false
	}
	end := rawjson.ValueEnd(p.b, 0)
	if end <= 0 || end > len(p.b) {
		return "", false
	}
	raw := p.b[:end]
	p.b = p.b[end:]
	if bytes.IndexByte(raw[1:end-1], '\\') < 0 {
		return string(raw[1 : end-1]), true
	}
	return rawjson.Unquote(raw)
}

func (p *canonicalParser) text(name string) string {
	if !p.ok || !p.lit(name) {
		return ""
	}
	s, ok := p.str()
	p.ok = ok
	return s
}

// texts consumes a member whose value is null or an array of strings.
func (p *canonicalParser) texts(name string) []string {
	if !p.ok || !p.lit(name) {
		return nil
	}
	if bytes.HasPrefix(p.b, []byte("null")) {
		p.b = p.b[4:]
		return nil
	}
	if !p.lit("[") {
		return nil
	}
	list := []string{}
	for p.ok && !bytes.HasPrefix(p.b, []byte("]")) {
		if len(list) > 0 && !p.lit(",") {
			return nil
		}
		s, ok := p.str()
		if !ok {
			p.ok = false
			return nil
		}
		list = append(list, s)
	}
	p.lit("]")
	return list
}
