package audit

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// The compact form of a record is how a store may keep it: the same content as the
// canonical JSON, in about a fifth of the bytes, from which Expand rebuilds the exact
// canonical bytes (the tree hashes those, so they must come back byte for byte).
// Compact only packs a record whose canonical bytes it can rebuild; any other stays as
// it is, JSON, which Expand hands back unchanged: a store reads both forms.
//
// The form, after its first byte compactV1 (JSON begins with '{'):
//
//	flags          uvarint: flagMessageID, flagPersonsNil, …
//	time           varint Unix seconds, uvarint nanoseconds
//	client         text
//	message_id     text, when flagMessageID
//	institution, service, purpose   text
//	persons        uvarint count, texts (none when flagPersonsNil)
//	fields         the same (flagFieldsNil)
//	decision       text
//	reasons        the same as persons (flagReasonsNil)
//	authorization, outcome          text
//	status, latency_us              varint
//	request_hash, response_hash     32 bytes each (texts when flagHashText)
//	binding        nothing: the binding of the two hashes (a text when flagBindingText)
//
// The seq is not in it: it is the store's key, given back to Expand.
//
// A text is a uvarint h and what follows: h&3 = textName: the dictionary's name h>>2;
// textLiteral: h>>2 bytes; textDigits: a string of h>>2 decimal digits (1 to 19, leading
// zeros kept by the length), their value as a uvarint. Person numbers take 6 bytes
// instead of 11, and the texts that repeat (institutions, services, purposes, reasons…)
// one or two.
const compactV1 = 1

const (
	flagMessageID = 1 << iota
	flagPersonsNil
	flagFieldsNil
	flagReasonsNil
	flagHashText
	flagBindingText
)

const (
	textName = iota
	textLiteral
	textDigits
)

// MaxNamed is the longest text Compact offers to the dictionary: longer ones are
// written out, so that a caller's long free text does not fill it.
const MaxNamed = 200

// Namer gives the dictionary's number of a text, adding it when new; ok false has the
// text written out instead (a full dictionary, or a store without one). It must not
// keep text, which Compact reuses.
type Namer func(text []byte) (id uint64, ok bool)

// NameOf returns the text of a dictionary number.
type NameOf func(id uint64) (string, error)

// ErrDamaged is what Expand returns on bytes that are not a compact record (its
// dictionary lookups return their own errors: a store's NotFound is damage too).
var ErrDamaged = errors.New("not a compact audit record")

// IsCompact reports whether stored is in the compact form (not JSON).
func IsCompact(stored []byte) bool { return len(stored) > 0 && stored[0] == compactV1 }

// appendTextBytes appends s as a text: digits, a dictionary's number (when name gives
// one), or the bytes.
func appendTextBytes(dst []byte, s []byte, name func([]byte) (uint64, bool)) []byte {
	if v, ok := digits(s); ok {
		dst = binary.AppendUvarint(dst, uint64(len(s))<<2|textDigits)
		return binary.AppendUvarint(dst, v)
	}
	if name != nil && len(s) <= MaxNamed {
		if id, ok := name(s); ok {
			return binary.AppendUvarint(dst, id<<2|textName)
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(s))<<2|textLiteral)
	return append(dst, s...)
}

// digits returns the value of s when it is 1 to 19 decimal digits.
func digits(s []byte) (uint64, bool) {
	if len(s) == 0 || len(s) > 19 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

// Expand appends to dst the canonical bytes of record seq as a store keeps it: the
// bytes themselves when stored is JSON, rebuilt when it is compact. name gives the
// dictionary's texts. It never panics on damaged bytes: it returns an error, or bytes
// that do not hash to the tree's leaf, which Verify reports.
func Expand(dst []byte, seq int64, stored []byte, name NameOf) ([]byte, error) {
	if !IsCompact(stored) {
		return append(dst, stored...), nil
	}
	return expand(dst, seq, compactReader{b: stored[1:], name: name})
}

// expand appends the canonical bytes of the compact record d reads.
func expand(dst []byte, seq int64, d compactReader) ([]byte, error) {
	flags := d.uvarint()
	secs, nanos := d.varint(), d.uvarint()
	if d.err == nil && (nanos >= 1e9 || secs < minUnix || secs > maxUnix) {
		d.err = ErrDamaged
	}
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, `,"time":"`...)
	dst = time.Unix(secs, int64(nanos)).UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","client":`...)
	dst = d.text(dst)
	if flags&flagMessageID != 0 {
		dst = append(dst, `,"message_id":`...)
		dst = d.text(dst)
	}
	dst = append(dst, `,"institution":`...)
	dst = d.text(dst)
	dst = append(dst, `,"service":`...)
	dst = d.text(dst)
	dst = append(dst, `,"purpose":`...)
	dst = d.text(dst)
	dst = append(dst, `,"persons":`...)
	dst = d.texts(dst, flags&flagPersonsNil != 0)
	dst = append(dst, `,"fields":`...)
	dst = d.texts(dst, flags&flagFieldsNil != 0)
	dst = append(dst, `,"decision":`...)
	dst = d.text(dst)
	dst = append(dst, `,"reasons":`...)
	dst = d.texts(dst, flags&flagReasonsNil != 0)
	dst = append(dst, `,"authorization":`...)
	dst = d.text(dst)
	dst = append(dst, `,"outcome":`...)
	dst = d.text(dst)
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(int(d.varint())), 10)
	dst = append(dst, `,"latency_us":`...)
	dst = strconv.AppendInt(dst, d.varint(), 10)
	dst = d.hashes(dst, flags)
	dst = append(dst, '}')
	if d.err == nil && len(d.b) > 0 {
		d.err = ErrDamaged
	}
	return dst, d.err
}

// The seconds of years 1 and 9999, the range prepare lets through.
var (
	minUnix = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxUnix = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
)

func (d *compactReader) hashes(dst []byte, flags uint64) []byte {
	if flags&flagHashText != 0 {
		for _, name := range []string{`,"request_hash":`, `,"response_hash":`, `,"binding":`} {
			dst = append(dst, name...)
			dst = d.text(dst)
		}
		return dst
	}
	req, resp := d.bytes(32), d.bytes(32)
	if d.err != nil {
		return dst
	}
	dst = append(dst, `,"request_hash":"`...)
	dst = hex.AppendEncode(dst, req)
	dst = append(dst, `","response_hash":"`...)
	dst = hex.AppendEncode(dst, resp)
	if flags&flagBindingText != 0 {
		dst = append(dst, `","binding":`...)
		return d.text(dst)
	}
	b := BindingHash([32]byte(req), [32]byte(resp))
	dst = append(dst, `","binding":"`...)
	dst = hex.AppendEncode(dst, b[:])
	return append(dst, '"')
}

// compactReader reads a compact record; the first error sticks, and reads after it
// return zeros.
type compactReader struct {
	b     []byte
	name  NameOf
	names *quotedNames // when not nil, the dictionary's texts, quoted, in place of name
	err   error
}

// quotedNames keeps the dictionary's texts as JSON strings, for one goroutine (a
// Verify worker): no lock, no hashing (numbers are small, dense, and index a slice), and
// no escaping after a text's first use. It keeps the numbers below maxQuotedNames; a
// larger one is read each time.
type quotedNames struct {
	name   NameOf
	quoted [][]byte // by number; nil: not read yet
}

const maxQuotedNames = 1 << 16

func newQuotedNames(name NameOf) *quotedNames { return &quotedNames{name: name} }

// get returns text id as a JSON string.
func (q *quotedNames) get(id uint64) ([]byte, error) {
	if id < uint64(len(q.quoted)) && q.quoted[id] != nil {
		return q.quoted[id], nil
	}
	if q.name == nil {
		return nil, ErrDamaged // a text named, and no dictionary
	}
	s, err := q.name(id)
	if err != nil {
		return nil, err
	}
	b := rawjson.AppendString(nil, s)
	if id < maxQuotedNames {
		if id >= uint64(len(q.quoted)) {
			q.quoted = append(q.quoted, make([][]byte, int(id)+1-len(q.quoted))...)
		}
		q.quoted[id] = b
	}
	return b, nil
}

func (d *compactReader) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = ErrDamaged
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *compactReader) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = ErrDamaged
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *compactReader) bytes(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if uint64(len(d.b)) < n {
		d.err = ErrDamaged
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

// rawText reads a text: its value, and for textDigits the digits' length and value.
func (d *compactReader) rawText() (kind uint64, v []byte, n, num uint64) {
	h := d.uvarint()
	kind, n = h&3, h>>2
	switch kind {
	case textName:
		num = n
	case textLiteral:
		v = d.bytes(n)
	case textDigits:
		num = d.uvarint()
		if d.err == nil && (n == 0 || n > 19 || num >= pow10[n]) {
			d.err = ErrDamaged
		}
	default:
		if d.err == nil {
			d.err = ErrDamaged
		}
	}
	return kind, v, n, num
}

var pow10 = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// text appends the next text as a JSON string.
func (d *compactReader) text(dst []byte) []byte {
	kind, v, n, num := d.rawText()
	if d.err != nil {
		return dst
	}
	switch kind {
	case textName:
		if d.names != nil {
			q, err := d.names.get(num)
			if err != nil {
				d.err = err
				return dst
			}
			return append(dst, q...)
		}
		if d.name == nil {
			d.err = ErrDamaged // a text named, and no dictionary
			return dst
		}
		s, err := d.name(num)
		if err != nil {
			d.err = err
			return dst
		}
		return rawjson.AppendString(dst, s)
	case textLiteral:
		return rawjson.AppendString(dst, string(v))
	}
	dst = append(dst, '"')
	dst = appendDigits(dst, num, int(n))
	return append(dst, '"')
}

// appendDigits appends v in width decimal digits, zeros first.
func appendDigits(dst []byte, v uint64, width int) []byte {
	var buf [20]byte
	for i := width - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[:width]...)
}

// texts appends the next list as a JSON array (null when isNil).
func (d *compactReader) texts(dst []byte, isNil bool) []byte {
	if isNil {
		return append(dst, "null"...)
	}
	n := d.uvarint()
	if n > uint64(len(d.b)) { // each text takes a byte at least
		d.err = ErrDamaged
	}
	dst = append(dst, '[')
	for i := uint64(0); i < n && d.err == nil; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = d.text(dst)
	}
	return append(dst, ']')
}

// StoredPersons returns the persons a stored record names, in either form, without the
// dictionary (persons are never named in it): what a store's person index needs.
func StoredPersons(stored []byte) ([]string, error) {
	if !IsCompact(stored) {
		r, err := decode(stored)
		return r.Persons, err
	}
	d := compactReader{b: stored[1:]}
	flags := d.uvarint()
	d.varint()
	d.uvarint()
	skip := 4 // client, institution, service, purpose
	if flags&flagMessageID != 0 {
		skip++
	}
	for range skip {
		d.rawText()
	}
	if d.err != nil || flags&flagPersonsNil != 0 {
		return nil, d.err
	}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return nil, ErrDamaged
	}
	out := make([]string, 0, n)
	for range n {
		kind, v, width, num := d.rawText()
		switch {
		case d.err != nil:
			return nil, d.err
		case kind == textLiteral:
			out = append(out, string(v))
		case kind == textDigits:
			out = append(out, string(appendDigits(nil, num, int(width))))
		default:
			return nil, ErrDamaged
		}
	}
	return out, nil
}
