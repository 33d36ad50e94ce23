package directory

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// The columns of a batch integration file. The header line names them, in any order;
// person, institution, capacity and begin are required; action and end are optional.
var batchColumns = []string{"action", "person", "institution", "capacity", "begin", "end"}

// ParsedBatch is a batch file read into lines. Lines that could not be read (a bad
// date, a wrong number of columns) are already in Bad with their file line number;
// FileLine maps the position of each of Lines to its line in the file.
type ParsedBatch struct {
	Lines    []Line
	FileLine []int
	Bad      []LineResult
}

// MaxFileLine bounds a line of a batch file, in bytes: a line holds six short columns,
// and a longer one would be read whole before it could be found wrong.
const MaxFileLine = 1024

// ParseBatch reads a batch integration file: CSV (comma or semicolon, detected from the
// header) with a header line, UTF-8, at most max data lines of at most MaxFileLine bytes.
// Blank lines are ignored. A *fault.Error of r's (a body too large) is returned as it is.
func ParseBatch(r io.Reader, max int) (ParsedBatch, error) {
	var pb ParsedBatch
	cr, cols, err := readHeader(&lineBound{r: r, max: MaxFileLine, line: 1})
	if err != nil {
		return pb, err
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return pb, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return pb, unreadable("file", err)
			}
			pb.Bad = append(pb.Bad, LineResult{Line: pe.Line, Status: LineRejected, Field: "line", Error: pe.Err.Error()})
			continue
		}
		if len(pb.Lines)+len(pb.Bad) >= max {
			return pb, fault.Invalidf("file", "more than %d lines; split the file", max)
		}
		line, _ := cr.FieldPos(0)
		l, err := lineOf(rec, cols)
		if err != nil {
			pb.Bad = append(pb.Bad, rejected(line, err))
			continue
		}
		pb.Lines = append(pb.Lines, l)
		pb.FileLine = append(pb.FileLine, line)
	}
}

func readHeader(r io.Reader) (*csv.Reader, []string, error) {
	br := newPeekReader(r)
	first, err := br.peekLine()
	if err != nil {
		return nil, nil, fault.Invalidf("file", "cannot read the header line: %v", err)
	}
	cr := csv.NewReader(br)
	if strings.Count(first, ";") > strings.Count(first, ",") {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, nil, unreadable("header", err)
	}
	cols := make([]string, len(head))
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(batchColumns, h) {
			return nil, nil, fault.Invalidf("header", "unknown column %q; the columns are %s", clip(h), strings.Join(batchColumns, ", "))
		}
		if slices.Contains(cols, h) {
			return nil, nil, fault.Invalidf("header", "column %q appears twice", h)
		}
		cols[i] = h
	}
	for _, need := range []string{"person", "institution", "capacity", "begin"} {
		if !slices.Contains(cols, need) {
			return nil, nil, fault.Invalidf("header", "column %q is missing", need)
		}
	}
	return cr, cols, nil
}

// unreadable is the fault of a file that could not be read: the reader's own if it has
// one (a line too long, a body too large), else one naming field.
func unreadable(field string, err error) error {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe
	}
	return fault.Invalidf(field, "cannot be read: %v", err)
}

// lineBound reads from r and fails on a line longer than max bytes.
type lineBound struct {
	r         io.Reader
	max       int
	run, line int // bytes of the current line so far; its number
}

func (b *lineBound) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	for rest := p[:n]; ; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 || b.run+i > b.max {
			b.run += len(rest)
			break
		}
		b.run, b.line, rest = 0, b.line+1, rest[i+1:]
	}
	if b.run > b.max {
		return 0, fault.Invalidf("file", "line %d is longer than %d bytes", b.line, b.max)
	}
	return n, err
}

func lineOf(rec, cols []string) (Line, error) {
	var l Line
	if len(rec) != len(cols) {
		return l, fault.Invalidf("line", "has %d columns; the header has %d", len(rec), len(cols))
	}
	for i, c := range cols {
		v := strings.TrimSpace(rec[i])
		var err error
		switch c {
		case "action":
			l.Action = v
		case "person":
			l.Person = v
		case "institution":
			l.Institution = v
		case "capacity":
			l.Capacity = v
		case "begin":
			l.Begin, err = date.Parse(v)
		case "end":
			l.End, err = date.Parse(v)
		}
		if err != nil {
			return l, fault.Invalidf(c, "%v", err)
		}
	}
	return l, nil
}

// Renumber rewrites a report of Integrate(pb.Lines) to file line numbers and merges in
// the lines that could not be read, in file order.
func (pb ParsedBatch) Renumber(rep Report) Report {
	for i := range rep.Lines {
		rep.Lines[i].Line = pb.FileLine[i]
	}
	rep.Lines = append(rep.Lines, pb.Bad...)
	rep.Rejected += len(pb.Bad)
	slices.SortStableFunc(rep.Lines, func(a, b LineResult) int { return a.Line - b.Line })
	return rep
}

// String summarises a report in one line.
func (r Report) String() string {
	return fmt.Sprintf("%s batch: %d applied, %d rejected, %d skipped", r.Mode, r.Applied, r.Rejected, r.Skipped)
}

// IntegrateFile applies a parsed batch file and reports by file line. In atomic mode a
// line that could not even be read stops the whole file; in partial mode it is reported
// and the readable lines go on.
func (d *Directory) IntegrateFile(ctx context.Context, actor string, pb ParsedBatch, mode BatchMode) (Report, error) {
	if len(pb.Lines) == 0 && len(pb.Bad) == 0 {
		return Report{}, fault.Invalidf("file", "holds no lines")
	}
	if len(pb.Lines) == 0 || (len(pb.Bad) > 0 && mode == Atomic) {
		rep := Report{Mode: modeName(mode), Lines: make([]LineResult, len(pb.Lines))}
		for i := range rep.Lines {
			rep.Lines[i] = LineResult{Line: i + 1, Status: LineSkipped}
		}
		rep.Skipped = len(rep.Lines)
		return pb.Renumber(rep), nil
	}
	rep, err := d.Integrate(ctx, actor, pb.Lines, mode)
	if err != nil {
		return rep, err
	}
	return pb.Renumber(rep), nil
}
