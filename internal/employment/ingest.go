package employment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// maxHoursADay bounds the hours of a day worked: more is implausible.
const maxHoursADay = 12

// Operator may declare for every employer: the hub's operator importing a file (CLI).
func Operator(string) error { return nil }

// Import is one quarterly file to ingest.
type Import struct {
	File   io.ReadSeeker
	Format string
	By     string // the declaring institution, or the operator
	// May says whether By may declare for an employer (enterprise number); a refusal
	// rejects the line. Required: Operator allows everything.
	May func(employer string) error
	// Progress, if set, is called with the lines read so far, every 65,536 lines.
	Progress func(lines int)
}

// Ingest validates a quarterly file line by line and stores its accepted lines in one
// transaction, with its report. The same bytes a second time give the first report
// without storing anything (idempotent by hash). Every line is checked on its own
// (identifiers with their check digits, the quarter, amounts, days and hours within the
// quarter, the fraction in [0, 1], the mandate, an employment relation with the employer
// overlapping the quarter, no second line for the same worker and employer); the
// quarter is the first readable line's. A line for a worker and employer already
// declared for the quarter replaces the earlier one, which is kept as history.
func (s *Source) Ingest(ctx context.Context, in Import) (f File, again bool, err error) {
	if in.May == nil {
		return File{}, false, fault.Wrap(errors.New("no mandate check"), "import a quarterly file")
	}
	h := sha256.New()
	if _, err := io.Copy(h, in.File); err != nil {
		return File{}, false, fault.Invalidf("file", "cannot be read: %v", err)
	}
	f = File{Hash: hex.EncodeToString(h.Sum(nil)), Format: in.Format, DeclaredBy: in.By, Received: s.now(), Report: []LineResult{}}
	if old, ok, err := s.Store.File(ctx, f.Hash); err != nil || ok {
		return old, ok, err
	}
	if _, err := in.File.Seek(0, io.SeekStart); err != nil {
		return File{}, false, fault.Wrap(err, "read the file again")
	}
	v := &validator{s: s, in: in, f: &f, ctx: ctx, mandates: map[string]error{}, seen: map[key]int{}}
	if err := Parse(in.File, in.Format, v.line); err != nil {
		return File{}, false, err
	}
	if f.Quarter == 0 {
		return File{}, false, fault.Invalidf("file", "holds no wage line that could be read")
	}
	stored, err := s.Store.StoreQuarter(ctx, f, v.lines)
	if fault.KindOf(err) == fault.Conflict { // the same file, stored meanwhile
		if old, ok, ferr := s.Store.File(ctx, f.Hash); ferr == nil && ok {
			return old, true, nil
		}
	}
	return stored, false, err
}

type key struct{ person, employer int64 }

// validator checks a file's lines against the quarter's relations, read once.
type validator struct {
	s        *Source
	in       Import
	f        *File
	ctx      context.Context
	rels     map[key]float64 // the quarter's relations: their fraction
	declared map[key]bool    // lines already in force for the quarter
	mandates map[string]error
	seen     map[key]int // line of each worker and employer in this file
	lines    []WageLine
}

func (v *validator) line(p Parsed) error {
	v.f.Lines++
	if v.in.Progress != nil && v.f.Lines%65536 == 0 {
		v.in.Progress(v.f.Lines)
	}
	if p.Err != nil {
		v.reject(*p.Err)
		return nil
	}
	if v.f.Quarter == 0 {
		if err := v.start(p.Quarter); err != nil {
			return err
		}
	}
	w := p.WageLine
	if field, reason := v.check(&w); reason != "" {
		v.reject(LineResult{Line: p.Line, Verdict: Rejected, Field: field, Reason: reason})
		return nil
	}
	k := key{w.PersonKey, w.EmployerKey}
	if first, dup := v.seen[k]; dup {
		v.reject(LineResult{Line: p.Line, Verdict: Rejected, Field: "person", Reason: fmt.Sprintf("duplicates line %d (the same worker and employer)", first)})
		return nil
	}
	v.seen[k] = p.Line
	w.Line = p.Line
	v.f.Accepted++
	if v.declared[k] {
		v.f.Replaced++
	}
	if rf := v.rels[k]; math.Abs(rf-w.Fraction) > 0.01 {
		v.f.Warnings++
		v.f.Report = append(v.f.Report, LineResult{Line: p.Line, Verdict: Warning, Field: "fraction",
			Reason: fmt.Sprintf("%g differs from the relation's %g", w.Fraction, rf)})
	}
	v.lines = append(v.lines, w)
	return nil
}

func (v *validator) reject(r LineResult) {
	v.f.Rejected++
	v.f.Report = append(v.f.Report, r)
}

// start reads what the checks need of quarter q.
func (v *validator) start(q Quarter) error {
	v.f.Quarter = q
	v.rels, v.declared = map[key]float64{}, map[key]bool{}
	if err := v.s.Store.QuarterRelations(v.ctx, q, func(p, e int64, fr float64) { v.rels[key{p, e}] = fr }); err != nil {
		return err
	}
	return v.s.Store.QuarterDeclared(v.ctx, q, func(p, e int64) { v.declared[key{p, e}] = true })
}

// check checks one line, setting its keys: the field at fault and why, or "".
func (v *validator) check(w *WageLine) (field, reason string) {
	q := v.f.Quarter
	switch {
	case !ident.ValidPerson(w.Person):
		return "person", explain(ident.CheckPerson(w.Person))
	case !ident.ValidEnterprise(w.Employer):
		return "employer", explain(ident.CheckEnterprise(w.Employer))
	case w.Quarter != q:
		return "quarter", fmt.Sprintf("%s: the file declares %s", w.Quarter, q)
	case w.Wages < 0 || w.Bonus < 0:
		return "wages", "wages are not negative"
	case w.Days < 0 || w.Days > q.Days():
		return "days", fmt.Sprintf("%d: from 0 to the %d days of %s", w.Days, q.Days(), q)
	case !(w.Hours >= 0 && w.Hours <= float64(maxHoursADay*w.Days)):
		return "hours", fmt.Sprintf("%g: from 0 to %d a day worked (%d days)", w.Hours, maxHoursADay, w.Days)
	case !(w.Fraction >= 0 && w.Fraction <= 1):
		return "fraction", fmt.Sprintf("%g: a working-time fraction is from 0 to 1", w.Fraction)
	case w.Contribution != "" && !validCode(w.Contribution):
		return "contribution", fmt.Sprintf("%q: a contribution code is 2 digits", w.Contribution)
	}
	w.PersonKey, _ = strconv.ParseInt(w.Person, 10, 64)
	w.EmployerKey, _ = strconv.ParseInt(w.Employer, 10, 64)
	if err, ok := v.mandates[w.Employer]; !ok {
		err = v.in.May(w.Employer)
		v.mandates[w.Employer] = err
	}
	if err := v.mandates[w.Employer]; err != nil {
		return "employer", "you may not declare for " + w.Employer + ": no mandate"
	}
	if _, ok := v.rels[key{w.PersonKey, w.EmployerKey}]; !ok {
		return "person", fmt.Sprintf("no employment relation of %s with %s overlaps %s", w.Person, w.Employer, q)
	}
	return "", ""
}

func explain(err error) string {
	if err == nil {
		return "is not valid"
	}
	return err.Error()
}

func validCode(s string) bool {
	return len(s) == 2 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9'
}
