package employment

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Formats of a quarterly declaration file.
const (
	JSONLines = "jsonl"
	CSV       = "csv"
)

// Columns are the columns of a CSV quarterly file, all required, in any order, and no
// other; the JSON lines format has the same members (wages and bonus integers in cents,
// quarter a string such as "2026Q3"). docs/declarations.md publishes both schemas.
var Columns = []string{"person", "employer", "quarter", "wages", "bonus", "days", "hours", "fraction", "contribution"}

// MaxLine bounds one line of a file, in bytes.
const MaxLine = 4096

// Parsed is one line of a file: its number (from 1, the CSV header being line 1), and
// the line or why it could not be read.
type Parsed struct {
	Line int
	WageLine
	Err *LineResult // nil: read
}

// Parse reads a quarterly file in format and calls fn with each line, in order. A file
// it cannot read at all (an unknown format, a CSV header with a column missing or
// unknown) is an error naming why; a line it cannot read is a Parsed with Err.
func Parse(r io.Reader, format string, fn func(Parsed) error) error {
	switch format {
	case JSONLines:
		return parseJSONL(r, fn)
	case CSV:
		return parseCSV(r, fn)
	}
	return fault.Invalidf("format", "%q: use %s or %s", format, JSONLines, CSV)
}

func bad(line int, field, format string, args ...any) Parsed {
	return Parsed{Line: line, Err: &LineResult{Line: line, Verdict: Rejected, Field: field, Reason: fmt.Sprintf(format, args...)}}
}

func parseJSONL(r io.Reader, fn func(Parsed) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := readLine(br)
		if err == io.EOF && line == nil {
			return nil
		}
		if err != nil && err != io.EOF {
			if errors.Is(err, errLong) {
				if ferr := fn(bad(n, "", "is longer than %d bytes", MaxLine)); ferr != nil {
					return ferr
				}
				continue
			}
			return fault.Invalidf("file", "line %d: %v", n, err)
		}
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\ufeff"))
		}
		if len(bytes.TrimSpace(line)) == 0 {
			if err == io.EOF {
				return nil
			}
			continue
		}
		if ferr := fn(decodeJSONLine(n, line, err == io.EOF)); ferr != nil {
			return ferr
		}
		if err == io.EOF {
			return nil
		}
	}
}

var errLong = errors.New("line too long")

// readLine returns the next line without its end; a line of more than MaxLine bytes is
// skipped whole and reported as errLong.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull || len(line) > MaxLine+2 {
		for err == bufio.ErrBufferFull {
			_, err = br.ReadSlice('\n')
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		return []byte{}, errLong
	}
	if err == io.EOF && len(line) == 0 {
		return nil, io.EOF
	}
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	return line, err
}

func decodeJSONLine(n int, line []byte, last bool) Parsed {
	if !utf8.Valid(line) {
		return bad(n, "", "is not UTF-8")
	}
	p := Parsed{Line: n}
	if ok, seen := decodeFastSeen(line, &p.WageLine); ok {
		if seen != allMembers {
			return bad(n, missing(seen), "is missing: a wage line names every member (%s)", strings.Join(Columns, ", "))
		}
		return p
	}
	p.WageLine = WageLine{}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p.WageLine); err != nil {
		var field string
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			field = te.Field
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
			return bad(n, f, "is not a member of a wage line (%s)", strings.Join(Columns, ", "))
		case last && (errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF):
			return bad(n, "", "is truncated: the file ends inside it")
		}
		return bad(n, field, "is not a JSON wage line: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return bad(n, "", "holds more than one JSON value")
	}
	if seen := membersOf(line); seen != allMembers {
		return bad(n, missing(seen), "is missing: a wage line names every member (%s)", strings.Join(Columns, ", "))
	}
	p.WageLine.File, p.WageLine.Line, p.Replaced, p.PersonKey, p.EmployerKey = 0, 0, false, 0, 0
	return p
}

func parseCSV(r io.Reader, fn func(Parsed) error) error {
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return fault.Invalidf("file", "is empty: the first line names the columns %s", strings.Join(Columns, ","))
	}
	if err != nil {
		return fault.Invalidf("file", "the header cannot be read: %v", err)
	}
	idx, err := columns(head)
	if err != nil {
		return err
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		var n int
		var p Parsed
		switch {
		case err != nil: // FieldPos is only for a record read
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				n = pe.StartLine
			}
			p = bad(n, "", "cannot be read: %v", strings.TrimPrefix(err.Error(), "record on "))
		case len(rec) == 1 && rec[0] == "":
			continue
		case len(rec) != len(idx):
			p = bad(csvLineOf(cr), "", "has %d fields, the header %d", len(rec), len(idx))
		default:
			p = csvLine(csvLineOf(cr), rec, idx)
		}
		if ferr := fn(p); ferr != nil {
			return ferr
		}
	}
}

// csvLineOf is the line where the reader's last record began.
func csvLineOf(cr *csv.Reader) int {
	n, _ := cr.FieldPos(0)
	return n
}

// columns maps the header to Columns' order: idx[i] is the column of Columns[i].
func columns(head []string) ([]int, error) {
	idx := make([]int, len(Columns))
	for i := range idx {
		idx[i] = -1
	}
	for i, h := range head {
		h = strings.TrimSpace(h)
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		c := slices.Index(Columns, h)
		switch {
		case c < 0:
			return nil, fault.Invalidf("file", "column %d, %q, is not a column of a quarterly declaration (%s)", i+1, h, strings.Join(Columns, ","))
		case idx[c] >= 0:
			return nil, fault.Invalidf("file", "column %q appears twice", h)
		}
		idx[c] = i
	}
	for c, i := range idx {
		if i < 0 {
			return nil, fault.Invalidf("file", "column %q is missing: the header must name %s", Columns[c], strings.Join(Columns, ","))
		}
	}
	return idx, nil
}

func csvLine(n int, rec []string, idx []int) Parsed {
	for _, f := range rec {
		if !utf8.ValidString(f) {
			return bad(n, "", "is not UTF-8")
		}
	}
	col := func(c int) string { return strings.TrimSpace(rec[idx[c]]) }
	p := Parsed{Line: n}
	w := &p.WageLine
	w.Person, w.Employer, w.Contribution = col(0), col(1), col(8)
	var err error
	if w.Quarter, err = ParseQuarter(col(2)); err != nil {
		return bad(n, "quarter", "%v", err)
	}
	if w.Wages, err = strconv.ParseInt(col(3), 10, 64); err != nil {
		return bad(n, "wages", "%q is not a whole number of cents", col(3))
	}
	if w.Bonus, err = strconv.ParseInt(col(4), 10, 64); err != nil {
		return bad(n, "bonus", "%q is not a whole number of cents", col(4))
	}
	if w.Days, err = strconv.Atoi(col(5)); err != nil {
		return bad(n, "days", "%q is not a whole number", col(5))
	}
	if w.Hours, err = strconv.ParseFloat(col(6), 64); err != nil {
		return bad(n, "hours", "%q is not a number", col(6))
	}
	if w.Fraction, err = strconv.ParseFloat(col(7), 64); err != nil {
		return bad(n, "fraction", "%q is not a number", col(7))
	}
	return p
}
