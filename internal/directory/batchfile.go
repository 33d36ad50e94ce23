package directory

import (
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

// ParseBatch reads a batch integration file: CSV (comma or semicolon, detected from the
// header) with a header line, UTF-8, at most max data lines. Blank lines are ignored.
func ParseBatch(r io.Reader, max int) (ParsedBatch, error) {
	var pb ParsedBatch
	cr, cols, err := readHeader(r)
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
				return pb, fault.Invalidf("file", "cannot be read: %v", err)
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
		return nil, nil, fault.Invalidf("file", "cannot read the header line: %v", err)
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
