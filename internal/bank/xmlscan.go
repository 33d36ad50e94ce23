package bank

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// scanXML reads an XML document as a stream and hands its elements and text to c. It
// reads the subset of XML 1.0 that statements use, strictly: elements, attributes in
// quotes, the five predefined entities and character references, comments, processing
// instructions (an encoding other than UTF-8 is refused), CDATA sections; no document
// type (so no entity of the sender's: no expansion attack), one root element, end tags
// matching their start tags, only XML characters. Names keep their local part
// ("camt:Amt" is Amt), as encoding/xml's RawToken gives them.
func scanXML(r io.Reader, c *camtReader) error {
	s := &xmlScanner{r: bufio.NewReaderSize(r, 64<<10), c: c}
	err := s.run()
	if err != nil && !s.fromReader {
		return c.where(err)
	}
	return err
}

// of marks an error of the camtReader (already worded), returned as it is.
func (s *xmlScanner) of(err error) error {
	if err != nil {
		s.fromReader = true
	}
	return err
}

type xmlScanner struct {
	r     *bufio.Reader
	c     *camtReader
	stack []string // qualified names, to match end tags
	roots int
	buf   []byte
	// fromReader: the error came from the camtReader, not from the XML.
	fromReader bool
	names      map[string]string // names met, interned
	name0      [64]byte
}

const maxName = 256

func (s *xmlScanner) run() error {
	for {
		seg, err := s.r.ReadSlice('<')
		if errors.Is(err, bufio.ErrBufferFull) {
			return errors.New("text longer than 64 KiB")
		}
		text := seg
		if err == nil {
			text = seg[:len(seg)-1]
		}
		if len(text) > 0 {
			if err := s.text(text); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := s.markup(); err != nil {
			return err
		}
	}
	switch {
	case len(s.stack) > 0:
		return nil // finish names the open element
	case s.roots == 0:
		return errors.New("no root element")
	}
	return nil
}

// text handles character data between markup.
func (s *xmlScanner) text(b []byte) error {
	if len(s.stack) == 0 {
		if len(bytes.TrimLeft(b, " \t\r\n")) > 0 {
			return errors.New("text outside the root element")
		}
		return nil
	}
	if bytes.IndexByte(b, '&') >= 0 {
		d, err := unescape(s.buf[:0], b)
		if err != nil {
			return err
		}
		s.buf = d
		b = d
	} else if err := checkChars(b); err != nil {
		return err
	}
	return s.of(s.c.chars(b))
}

// markup reads what follows a '<'.
func (s *xmlScanner) markup() error {
	b, err := s.r.ReadByte()
	if err != nil {
		return errors.New("the document ends inside a tag")
	}
	switch b {
	case '/':
		return s.endTag()
	case '?':
		return s.pi()
	case '!':
		return s.bang()
	}
	s.r.UnreadByte()
	return s.startTag()
}

func (s *xmlScanner) name() (string, error) {
	n := s.name0[:0]
	for {
		b, err := s.r.ReadByte()
		if err != nil {
			return "", errors.New("the document ends inside a tag")
		}
		if !isNameByte(b, len(n) == 0) {
			s.r.UnreadByte()
			break
		}
		if n = append(n, b); len(n) > maxName {
			return "", errors.New("a name longer than 256 characters")
		}
	}
	if len(n) == 0 {
		return "", errors.New("a tag without a name")
	}
	if v, ok := s.names[string(n)]; ok { // no allocation: statements repeat a few names
		return v, nil
	}
	if bytes.HasSuffix(n, []byte(":")) || bytes.HasPrefix(n, []byte(":")) || bytes.Count(n, []byte(":")) > 1 {
		return "", fmt.Errorf("name %q is not a qualified name", n)
	}
	v := string(n)
	if len(s.names) < 256 {
		if s.names == nil {
			s.names = map[string]string{}
		}
		s.names[v] = v
	}
	return v, nil
}

func isNameByte(b byte, first bool) bool {
	switch {
	case 'A' <= b && b <= 'Z', 'a' <= b && b <= 'z', b == '_', b == ':':
		return true
	case '0' <= b && b <= '9', b == '-', b == '.':
		return !first
	}
	return false
}

func local(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == ':' {
			return name[i+1:]
		}
	}
	return name
}

func (s *xmlScanner) spaces() (byte, error) {
	for {
		b, err := s.r.ReadByte()
		if err != nil {
			return 0, errors.New("the document ends inside a tag")
		}
		if b != ' ' && b != '\t' && b != '\r' && b != '\n' {
			return b, nil
		}
	}
}

func (s *xmlScanner) startTag() error {
	if len(s.stack) == 0 && s.roots > 0 {
		return errors.New("a second root element")
	}
	name, err := s.name()
	if err != nil {
		return err
	}
	ccy := ""
	for {
		b, err := s.spaces()
		if err != nil {
			return err
		}
		switch b {
		case '>', '/':
			if b == '/' {
				if b, _ := s.r.ReadByte(); b != '>' {
					return fmt.Errorf("<%s: '/' not followed by '>'", clipS(name))
				}
			}
			s.roots++
			s.stack = append(s.stack, name)
			if err := s.of(s.c.start(local(name), ccy)); err != nil {
				return err
			}
			if b == '/' {
				return s.close(name)
			}
			return nil
		}
		s.r.UnreadByte()
		attr, err := s.name()
		if err != nil {
			return err
		}
		if b, err := s.spaces(); err != nil || b != '=' {
			return fmt.Errorf("attribute %s of <%s> without '='", clipS(attr), clipS(name))
		}
		q, err := s.spaces()
		if err != nil || (q != '"' && q != '\'') {
			return fmt.Errorf("attribute %s of <%s>: its value must be quoted", clipS(attr), clipS(name))
		}
		raw, err := s.r.ReadSlice(q)
		if err != nil {
			return fmt.Errorf("attribute %s of <%s>: value not closed", clipS(attr), clipS(name))
		}
		raw = raw[:len(raw)-1]
		if bytes.IndexByte(raw, '<') >= 0 {
			return fmt.Errorf("attribute %s of <%s>: '<' in a value", clipS(attr), clipS(name))
		}
		v, err := unescape(nil, raw)
		if err != nil {
			return err
		}
		if local(attr) == "Ccy" {
			ccy = string(v)
		}
		if b, _ := s.r.ReadByte(); b != ' ' && b != '\t' && b != '\r' && b != '\n' && b != '>' && b != '/' {
			return fmt.Errorf("<%s>: attributes must be separated by spaces", clipS(name))
		}
		s.r.UnreadByte()
	}
}

func (s *xmlScanner) endTag() error {
	name, err := s.name()
	if err != nil {
		return err
	}
	if b, err := s.spaces(); err != nil || b != '>' {
		return fmt.Errorf("</%s not closed by '>'", clipS(name))
	}
	return s.close(name)
}

func (s *xmlScanner) close(name string) error {
	if len(s.stack) == 0 || s.stack[len(s.stack)-1] != name {
		return fmt.Errorf("unexpected </%s>", clipS(name))
	}
	s.stack = s.stack[:len(s.stack)-1]
	return s.of(s.c.end(local(name)))
}

// pi skips a processing instruction; the XML declaration must not name an encoding
// other than UTF-8.
func (s *xmlScanner) pi() error {
	var body []byte
	for {
		b, err := s.r.ReadByte()
		if err != nil {
			return errors.New("a processing instruction is not closed")
		}
		if b == '>' && len(body) > 0 && body[len(body)-1] == '?' {
			break
		}
		if body = append(body, b); len(body) > 1024 {
			return errors.New("a processing instruction longer than 1 KiB")
		}
	}
	if bytes.HasPrefix(body, []byte("xml")) && (len(body) == 4 || body[3] == ' ') {
		if i := bytes.Index(body, []byte("encoding=")); i >= 0 {
			enc := bytes.Trim(body[i+9:], "?")
			if f := bytes.Fields(enc); len(f) > 0 {
				enc = bytes.Trim(f[0], `"'`)
			}
			if !bytes.EqualFold(enc, []byte("UTF-8")) {
				return fmt.Errorf("encoding %q: statements are read in UTF-8", clipS(string(enc)))
			}
		}
	}
	return nil
}

// bang reads a comment or a CDATA section; a document type is refused.
func (s *xmlScanner) bang() error {
	head, err := s.r.Peek(2)
	if err == nil && string(head) == "--" {
		s.r.Discard(2)
		return s.until("-->", nil)
	}
	head, err = s.r.Peek(7)
	if err == nil && string(head) == "[CDATA[" {
		if len(s.stack) == 0 {
			return errors.New("CDATA outside the root element")
		}
		s.r.Discard(7)
		var data []byte
		if err := s.until("]]>", &data); err != nil {
			return err
		}
		if err := checkChars(data); err != nil {
			return err
		}
		return s.of(s.c.chars(data))
	}
	return errors.New("document types (<!DOCTYPE …>) are not read")
}

// until skips to the end marker, keeping what it skips in keep when given (at most
// 64 KiB).
func (s *xmlScanner) until(marker string, keep *[]byte) error {
	var seen []byte
	for {
		b, err := s.r.ReadByte()
		if err != nil {
			return fmt.Errorf("%q missing", marker)
		}
		if seen = append(seen, b); len(seen) > 64<<10 {
			return errors.New("a comment or CDATA section longer than 64 KiB")
		}
		if bytes.HasSuffix(seen, []byte(marker)) {
			if keep != nil {
				*keep = seen[:len(seen)-len(marker)]
			}
			return nil
		}
	}
}

// unescape appends b with its references replaced to dst, checking its characters.
func unescape(dst, b []byte) ([]byte, error) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '&')
		if i < 0 {
			i = len(b)
		}
		if err := checkChars(b[:i]); err != nil {
			return nil, err
		}
		dst, b = append(dst, b[:i]...), b[i:]
		if len(b) == 0 {
			break
		}
		j := bytes.IndexByte(b, ';')
		if j < 0 || j > 12 {
			return nil, errors.New("'&' that starts no reference")
		}
		ref := string(b[1:j])
		b = b[j+1:]
		switch ref {
		case "lt":
			dst = append(dst, '<')
		case "gt":
			dst = append(dst, '>')
		case "amp":
			dst = append(dst, '&')
		case "quot":
			dst = append(dst, '"')
		case "apos":
			dst = append(dst, '\'')
		default:
			if len(ref) < 2 || ref[0] != '#' {
				return nil, fmt.Errorf("entity &%s; is not XML's", clipS(ref))
			}
			var n uint64
			var err error
			if ref[1] == 'x' {
				n, err = strconv.ParseUint(ref[2:], 16, 32)
			} else {
				n, err = strconv.ParseUint(ref[1:], 10, 32)
			}
			if err != nil || !xmlChar(rune(n)) {
				return nil, fmt.Errorf("reference &%s; is no XML character", clipS(ref))
			}
			dst = utf8.AppendRune(dst, rune(n))
		}
	}
	return dst, nil
}

// checkChars reports text that is not UTF-8 or holds characters XML does not allow.
func checkChars(b []byte) error {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return fmt.Errorf("character %#x is not allowed in XML", c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return errors.New("text is not UTF-8")
		}
		if !xmlChar(r) {
			return fmt.Errorf("character %U is not allowed in XML", r)
		}
		i += n
	}
	return nil
}

func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}
