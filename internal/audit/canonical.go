package audit

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// Compact appends to dst the compact form of canonical, the bytes of record seq, and
// reports whether it could: false when canonical is not exactly what the log writes
// for a record (dst is then returned unchanged; store canonical as it is). name may be
// nil: no text is then named.
//
// It reads canonical once, writing the compact form as it goes, then expands what it
// wrote and compares: only bytes that come back exactly are packed. (Reading into a
// Record and encoding it again costs five times as much, in allocations.)
func Compact(dst []byte, seq int64, canonical []byte, name Namer) ([]byte, bool) {
	start := len(dst)
	c := compactor{p: canonicalParser{b: canonical, ok: true, n: len(canonical)}, name: name}
	c.named = c.room[:0]
	if name != nil {
		// One copy of the bytes as a string: the texts offered to the dictionary are
		// substrings of it, not a string each.
		c.src = string(canonical)
	}
	out, ok := c.run(dst, seq)
	if !ok {
		return dst, false
	}
	buf := expandBuffers.Get().(*[]byte)
	defer expandBuffers.Put(buf)
	back, err := Expand((*buf)[:0], seq, out[start:], c.nameOf)
	*buf = back
	if err != nil || !bytes.Equal(back, canonical) {
		return dst, false
	}
	return out, true
}

var expandBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// compactor writes the compact form of the record its parser reads.
type compactor struct {
	p     canonicalParser
	name  Namer
	src   string      // canonical, when there is a dictionary
	named []namedText // the texts named so far, for the check
	room  [24]namedText
}

type namedText struct {
	id   uint64
	text string
}

func (c *compactor) nameOf(id uint64) (string, error) {
	for _, n := range c.named {
		if n.id == id {
			return n.text, nil
		}
	}
	return "", ErrDamaged
}

// namer offers the dictionary a text and keeps what it answered for nameOf.
func (c *compactor) namer(s []byte) (uint64, bool) {
	if c.name == nil {
		return 0, false
	}
	id, ok := c.name(s)
	if ok {
		text := c.src[c.p.at : c.p.at+len(s)]
		if c.p.escaped {
			text = string(s)
		}
		c.named = append(c.named, namedText{id, text})
	}
	return id, ok
}

func (c *compactor) run(dst []byte, seq int64) ([]byte, bool) {
	p := &c.p
	if p.int(`{"seq":`) != seq || !p.ok || !p.lit(`,"time":`) {
		return dst, false
	}
	ts, ok := p.str()
	if !ok {
		return dst, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return dst, false
	}
	var flags uint64
	// The flags come first but are known at the end: room for one byte (all flags fit
	// in 7 bits), filled in last.
	dst = append(dst, compactV1, 0)
	flagAt := len(dst) - 1
	dst = binary.AppendVarint(dst, t.Unix())
	dst = binary.AppendUvarint(dst, uint64(t.Nanosecond()))
	dst = c.text(dst, `,"client":`, true)
	if bytes.HasPrefix(p.b, []byte(`,"message_id":`)) {
		flags |= flagMessageID
		dst = c.text(dst, `,"message_id":`, false)
	}
	dst = c.text(dst, `,"institution":`, true)
	dst = c.text(dst, `,"service":`, true)
	dst = c.text(dst, `,"purpose":`, true)
	dst = c.texts(dst, `,"persons":`, false, &flags, flagPersonsNil)
	dst = c.texts(dst, `,"fields":`, true, &flags, flagFieldsNil)
	dst = c.text(dst, `,"decision":`, true)
	dst = c.texts(dst, `,"reasons":`, true, &flags, flagReasonsNil)
	dst = c.text(dst, `,"authorization":`, true)
	dst = c.text(dst, `,"outcome":`, true)
	dst = binary.AppendVarint(dst, p.int(`,"status":`))
	dst = binary.AppendVarint(dst, p.int(`,"latency_us":`))
	var req, resp, bind [32]byte
	reqText, respText, bindText := c.hashText(`,"request_hash":`), c.hashText(`,"response_hash":`), c.hashText(`,"binding":`)
	if !p.ok || !p.lit(`}`) || len(p.b) > 0 {
		return dst, false
	}
	rawReq, rawResp := hexHash(&req, reqText), hexHash(&resp, respText)
	switch {
	case !rawReq || !rawResp:
		flags |= flagHashText
		for _, s := range [][]byte{reqText, respText, bindText} {
			dst = appendTextBytes(dst, s, nil)
		}
	default:
		dst = append(append(dst, req[:]...), resp[:]...)
		if !hexHash(&bind, bindText) || bind != BindingHash(req, resp) {
			flags |= flagBindingText
			dst = appendTextBytes(dst, bindText, nil)
		}
	}
	dst[flagAt] = byte(flags)
	return dst, true
}

// hexHash decodes 64 lowercase hex digits into h.
func hexHash(h *[32]byte, s []byte) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	_, err := hex.Decode(h[:], s)
	return err == nil
}

func (c *compactor) hashText(name string) []byte {
	if !c.p.ok || !c.p.lit(name) {
		return nil
	}
	s, ok := c.p.str()
	c.p.ok = c.p.ok && ok
	return s
}

// text reads the member name's string and writes it as a text, offered to the
// dictionary when named.
func (c *compactor) text(dst []byte, name string, named bool) []byte {
	if !c.p.ok || !c.p.lit(name) {
		return dst
	}
	s, ok := c.p.str()
	if !ok {
		c.p.ok = false
		return dst
	}
	if named {
		return appendTextBytes(dst, s, c.namer)
	}
	return appendTextBytes(dst, s, nil)
}

// texts reads the member name's null or array of strings.
func (c *compactor) texts(dst []byte, name string, named bool, flags *uint64, isNil uint64) []byte {
	p := &c.p
	if !p.ok || !p.lit(name) {
		return dst
	}
	if bytes.HasPrefix(p.b, []byte("null")) {
		p.b = p.b[4:]
		*flags |= isNil
		return dst
	}
	if !p.lit("[") {
		return dst
	}
	// The count comes first: count the elements, then read them.
	n := 0
	for i := 0; i < len(p.b) && p.b[i] != ']'; {
		end := rawjson.ValueEnd(p.b, i)
		if end <= i || p.b[i] != '"' || end >= len(p.b) {
			p.ok = false
			return dst
		}
		n++
		if i = end; p.b[i] == ',' {
			i++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	for k := range n {
		if k > 0 && !p.lit(",") {
			return dst
		}
		s, ok := p.str()
		if !ok {
			p.ok = false
			return dst
		}
		if named {
			dst = appendTextBytes(dst, s, c.namer)
		} else {
			dst = appendTextBytes(dst, s, nil)
		}
	}
	p.lit("]")
	return dst
}

// canonicalParser reads the canonical form (appendRecord's: these members, in this
// order, nothing else) strictly; ok turns false at the first surprise. It accepts a
// little more than appendRecord writes (escapes, number forms): Compact's check by
// expansion refuses the rest.
type canonicalParser struct {
	b  []byte
	ok bool
	s  []byte // scratch for unquoted strings

	n       int  // the input's length
	at      int  // where the last string's value begins in the input
	escaped bool // the last string had escapes: its value is in s
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

// str consumes a JSON string and returns its value: a sub-slice of the input when it
// has no escape, valid until the next call otherwise.
func (p *canonicalParser) str() ([]byte, bool) {
	if len(p.b) == 0 || p.b[0] != '"' {
		return nil, false
	}
	end := rawjson.ValueEnd(p.b, 0)
	if end <= 0 || end > len(p.b) {
		return nil, false
	}
	raw := p.b[:end]
	p.at, p.escaped = p.n-len(p.b)+1, false
	p.b = p.b[end:]
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : end-1], true
	}
	p.escaped = true
	s, ok := rawjson.Unquote(raw)
	p.s = append(p.s[:0], s...)
	return p.s, ok
}
