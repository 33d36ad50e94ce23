package g2p

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// A file of applicants a social worker registers at once: JSON lines (one Application a
// line, or a JSON array) or CSV with the published header CSVColumns. Each line is read
// on its own: a line that cannot be read gets its verdict and the others go on.

// Batch file formats.
const (
	FormatJSON = "json" // JSON lines, or one JSON array
	FormatCSV  = "csv"
)

// CSVColumns is the header of a CSV file of applicants, in any order: person (or, left
// empty, name and birth_date, YYYY-MM-DD), mobile (international form) and account
// (IBAN). Every column must be present; a value may be empty.
var CSVColumns = []string{"person", "name", "birth_date", "mobile", "account"}

// maxLine bounds one line of a batch file.
const maxLine = 64 << 10

// BatchLine is one line of a file: the application read, or why it could not be.
type BatchLine struct {
	Line int // in the file, from 1
	App  Application
	Err  error
}

// ParseBatch reads a file of applicants. The error is the file's own (a CSV header
// wrong, more than MaxBatch lines, a JSON array that is not one); a line's is in its
// BatchLine.
func ParseBatch(r io.Reader, format string) ([]BatchLine, error) {
	switch format {
	case FormatCSV:
		return parseBatchCSV(r)
	case FormatJSON:
		return parseBatchJSON(r)
	}
	return nil, fault.Unsupportedf("format", "a file of applicants is JSON lines or CSV, not %q", clip(format))
}

func parseBatchJSON(r io.Reader) ([]BatchLine, error) {
	br := bufio.NewReaderSize(r, maxLine)
	for {
		c, err := br.Peek(1)
		if err != nil {
			return nil, fault.Invalidf("body", "empty: send JSON lines, one application a line")
		}
		if c[0] != ' ' && c[0] != '\n' && c[0] != '\r' && c[0] != '\t' {
			break
		}
		br.ReadByte()
	}
	if c, _ := br.Peek(1); c[0] == '[' {
		var items []json.RawMessage
		if err := json.NewDecoder(br).Decode(&items); err != nil {
			return nil, fault.Invalidf("body", "not a JSON array of applications: %s", jsonWhy(err))
		}
		if len(items) > MaxBatch {
			return nil, fault.TooLargef("body", "at most %d applications in one file", MaxBatch)
		}
		// Each item is read on its own, like a line: a bad one is its own verdict.
		out := make([]BatchLine, len(items))
		for i, it := range items {
			out[i] = BatchLine{Line: i + 1}
			dec := json.NewDecoder(bytes.NewReader(it))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&out[i].App); err != nil {
				out[i].Err = fault.Invalidf(fmt.Sprintf("line %d", i+1), "not an application (JSON object of person or name and birth_date, mobile, account): %s", jsonWhy(err))
			}
		}
		return out, nil
	}
	var out []BatchLine
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if len(out) == MaxBatch {
			return nil, fault.TooLargef("body", "at most %d applications in one file", MaxBatch)
		}
		bl := BatchLine{Line: n}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&bl.App); err != nil {
			bl.Err = fault.Invalidf(fmt.Sprintf("line %d", n), "not an application (JSON object of person or name and birth_date, mobile, account): %s", jsonWhy(err))
		} else if dec.More() {
			bl.Err = fault.Invalidf(fmt.Sprintf("line %d", n), "one application a line")
		}
		out = append(out, bl)
	}
	if err := sc.Err(); err != nil {
		return nil, fault.Invalidf("body", "line %d: %v (at most %d bytes a line)", len(out)+1, err, maxLine)
	}
	return out, nil
}

func parseBatchCSV(r io.Reader) ([]BatchLine, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked per line, so a short line is its own verdict
	cr.ReuseRecord = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fault.Invalidf("header", "the file is empty: its first line names the columns %s", strings.Join(CSVColumns, ","))
	}
	if err != nil {
		return nil, fault.Invalidf("header", "the first line names the columns %s: %v", strings.Join(CSVColumns, ","), unwrapCSV(err))
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(CSVColumns, h) {
			return nil, fault.Invalidf("header", "column %q is not one of %s", clip(h), strings.Join(CSVColumns, ","))
		}
		if _, dup := col[h]; dup {
			return nil, fault.Invalidf("header", "column %q twice", h)
		}
		col[h] = i
	}
	for _, c := range CSVColumns {
		if _, ok := col[c]; !ok {
			return nil, fault.Invalidf("header", "column %q is missing: the header is %s", c, strings.Join(CSVColumns, ","))
		}
	}
	var out []BatchLine
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		line := 0
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			line = pe.StartLine
		case len(rec) > 0:
			line, _ = cr.FieldPos(0)
		}
		if len(out) == MaxBatch {
			return nil, fault.TooLargef("body", "at most %d applications in one file", MaxBatch)
		}
		bl := BatchLine{Line: line}
		switch {
		case err != nil:
			bl.Err = fault.Invalidf(fmt.Sprintf("line %d", line), "%v", unwrapCSV(err))
		case len(rec) != len(head):
			bl.Err = fault.Invalidf(fmt.Sprintf("line %d", line), "%d values; the header has %d", len(rec), len(head))
		default:
			bl.App, bl.Err = csvApplication(rec, col, line)
		}
		out = append(out, bl)
	}
}

// jsonWhy says why a JSON value is not an application, in the file's terms rather than
// the program's types ("must be a g2p.Application").
func jsonWhy(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Sprintf("a JSON %s, not an object", te.Value)
		}
		return fmt.Sprintf("%q is a JSON %s; it must be a string", te.Field, te.Value)
	}
	return err.Error()
}

func unwrapCSV(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func csvApplication(rec []string, col map[string]int, line int) (Application, error) {
	v := func(c string) string { return strings.TrimSpace(rec[col[c]]) }
	a := Application{Person: v("person"), Name: v("name"), Mobile: v("mobile"), Account: v("account")}
	if b := v("birth_date"); b != "" {
		d, err := date.Parse(b)
		if err != nil {
			return a, fault.Invalidf(fmt.Sprintf("line %d.birth_date", line), "%q is not a date (YYYY-MM-DD)", clip(b))
		}
		a.BirthDate = d
	}
	return a, nil
}
