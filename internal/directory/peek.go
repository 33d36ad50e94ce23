package directory

import (
	"bufio"
	"io"
	"strings"
)

// peekReader lets the batch parser look at the header line before the CSV reader
// consumes it, to choose the separator.
type peekReader struct{ *bufio.Reader }

func newPeekReader(r io.Reader) peekReader { return peekReader{bufio.NewReaderSize(r, 64<<10)} }

// peekLine returns the first line without consuming it (at most the buffer size).
func (p peekReader) peekLine() (string, error) {
	for n := 256; ; n *= 2 {
		b, err := p.Peek(n)
		if i := strings.IndexByte(string(b), '\n'); i >= 0 {
			return string(b[:i]), nil
		}
		if err != nil {
			if err == io.EOF && len(b) > 0 {
				return string(b), nil
			}
			if err == io.EOF {
				return "", io.ErrUnexpectedEOF
			}
			return string(b), nil // the buffer is full: a very long header, let csv judge it
		}
	}
}
