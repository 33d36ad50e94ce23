package employment

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
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
	v := &validator{s: s, in: in, f: &f, ctx: ctx, mandates: map[string]error{}}
	err = Parse(in.File, in.Format, v.line)
	if werr := v.relate(); err == nil {
		err = werr
	}
	if err != nil {
		return File{}, false, err
	}
	if f.Quarter == 0 {
		return File{}, false, fault.Invalidf("file", "holds no wage line that could be read")
	}
	stored, err := s.Store.StoreQuarter(ctx, f, v.lines, v.incomes())
	if fault.KindOf(err) == fault.Conflict { // the same file, stored meanwhile
		if old, ok, ferr := s.Store.File(ctx, f.Hash); ferr == nil && ok {
			return old, true, nil
		}
	}
	return stored, false, err
}

type key struct{ person, employer int64 }

// validator checks a file's lines in two passes. While the file is read, each line is
// checked on its own (identifiers, plausibility, the mandate) and the quarter's
// relations and lines already in force are read meanwhile, from the first readable line
// on; then the lines kept are checked against them in file order (a relation, no second
// line for the same worker and employer, the fraction).
type validator struct {
	s        *Source
	in       Import
	f        *File
	ctx      context.Context
	loaded   chan error // the quarter's relations read
	rels     map[key]int32
	slots    []slot
	mandates map[string]error
	lastEmp  string // the last employer's mandate, most files being grouped by employer
	lastErr  error
	lines    []WageLine
	qdays    int
	persons  []int64 // the valid person numbers read, repeats too
}

// slot is what the validator knows of a worker and employer in the quarter.
type slot struct {
	person   int64
	fraction float64 // the relation's
	declared bool    // a line in force before this file
	old      int64   // its amount, wages and bonus
	line     int     // this file's line for them; 0: none yet
	amount   int64   // this line's amount
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
		v.start(p.Quarter)
	}
	w := p.WageLine
	if field, reason := v.check(&w); reason != "" {
		v.reject(LineResult{Line: p.Line, Verdict: Rejected, Field: field, Reason: reason})
		return nil
	}
	w.Line = p.Line
	v.lines = append(v.lines, w)
	return nil
}

func (v *validator) reject(r LineResult) {
	v.f.Rejected++
	v.f.Report = append(v.f.Report, r)
}

// start reads, beside the parsing, what the checks need of quarter q.
func (v *validator) start(q Quarter) {
	v.f.Quarter = q
	v.loaded = make(chan error, 1)
	go func() {
		v.rels = make(map[key]int32)
		err := v.s.Store.QuarterRelations(v.ctx, q, func(p, e int64, fr float64) {
			k := key{p, e}
			if i, ok := v.rels[k]; ok {
				v.slots[i].fraction = fr
				return
			}
			v.rels[k] = int32(len(v.slots))
			v.slots = append(v.slots, slot{person: p, fraction: fr})
		})
		if err == nil {
			err = v.s.Store.QuarterDeclared(v.ctx, q, func(p, e, amount int64) {
				if i, ok := v.rels[key{p, e}]; ok {
					v.slots[i].declared, v.slots[i].old = true, amount
				}
			})
		}
		v.loaded <- err
	}()
}

// relate waits for the quarter's relations and checks the lines kept against them, in
// file order; the report is then in line order.
func (v *validator) relate() error {
	if v.loaded == nil {
		return nil
	}
	if err := <-v.loaded; err != nil {
		return err
	}
	kept := v.lines[:0]
	for _, w := range v.lines {
		i, ok := v.rels[key{w.PersonKey, w.EmployerKey}]
		if !ok {
			v.reject(LineResult{Line: w.Line, Verdict: Rejected, Field: "person",
				Reason: fmt.Sprintf("no employment relation of %s with %s overlaps %s", w.Person, w.Employer, v.f.Quarter)})
			continue
		}
		sl := &v.slots[i]
		if sl.line != 0 {
			v.reject(LineResult{Line: w.Line, Verdict: Rejected, Field: "person", Reason: fmt.Sprintf("duplicates line %d (the same worker and employer)", sl.line)})
			continue
		}
		sl.line, sl.amount = w.Line, w.Wages+w.Bonus
		v.f.Accepted++
		if sl.declared {
			v.f.Replaced++
		}
		if math.Abs(sl.fraction-w.Fraction) > 0.01 {
			v.f.Warnings++
			v.f.Report = append(v.f.Report, LineResult{Line: w.Line, Verdict: Warning, Field: "fraction",
				Reason: fmt.Sprintf("%g differs from the relation's %g", w.Fraction, sl.fraction)})
		}
		kept = append(kept, w)
	}
	v.lines = kept
	v.f.Persons = personList(v.persons)
	slices.SortStableFunc(v.f.Report, func(a, b LineResult) int { return cmp.Compare(a.Line, b.Line) })
	return nil
}

// incomes returns the monthly income of each worker with an accepted line, in number
// order: the lines of this file and, for their other employers, the lines in force.
func (v *validator) incomes() []Income {
	changed := make(map[int64]int64, len(v.lines))
	for _, w := range v.lines {
		changed[w.PersonKey] = 0
	}
	for _, sl := range v.slots {
		total, ok := changed[sl.person]
		switch {
		case !ok:
		case sl.line != 0:
			changed[sl.person] = total + sl.amount
		case sl.declared:
			changed[sl.person] = total + sl.old
		}
	}
	out := make([]Income, 0, len(changed))
	for p, cents := range changed {
		out = append(out, Income{Person: p, Monthly: int(min((cents+150)/300, MaxIncome))})
	}
	slices.SortFunc(out, func(a, b Income) int { return cmp.Compare(a.Person, b.Person) })
	return out
}

// check checks one line on its own, setting its keys: the field at fault and why, or "".
// A valid person number is kept for the file's audit records, whatever the verdict.
func (v *validator) check(w *WageLine) (field, reason string) {
	q := v.f.Quarter
	if !ident.ValidPerson(w.Person) {
		return "person", explain(ident.CheckPerson(w.Person))
	}
	w.PersonKey, _ = strconv.ParseInt(w.Person, 10, 64)
	v.persons = append(v.persons, w.PersonKey)
	switch {
	case !ident.ValidEnterprise(w.Employer):
		return "employer", explain(ident.CheckEnterprise(w.Employer))
	case w.Quarter != q:
		return "quarter", fmt.Sprintf("%s: the file declares %s", w.Quarter, q)
	case w.Wages < 0 || w.Bonus < 0:
		return "wages", "wages are not negative"
	case w.Days < 0 || w.Days > v.days():
		return "days", fmt.Sprintf("%d: from 0 to the %d days of %s", w.Days, q.Days(), q)
	case !(w.Hours >= 0 && w.Hours <= float64(maxHoursADay*w.Days)):
		return "hours", fmt.Sprintf("%g: from 0 to %d a day worked (%d days)", w.Hours, maxHoursADay, w.Days)
	case !(w.Fraction >= 0 && w.Fraction <= 1):
		return "fraction", fmt.Sprintf("%g: a working-time fraction is from 0 to 1", w.Fraction)
	case w.Contribution != "" && !validCode(w.Contribution):
		return "contribution", fmt.Sprintf("%q: a contribution code is 2 digits", w.Contribution)
	}
	w.EmployerKey, _ = strconv.ParseInt(w.Employer, 10, 64)
	if w.Employer != v.lastEmp || v.lastEmp == "" {
		err, ok := v.mandates[w.Employer]
		if !ok {
			err = v.in.May(w.Employer)
			v.mandates[w.Employer] = err
		}
		v.lastEmp, v.lastErr = w.Employer, err
	}
	if v.lastErr != nil {
		return "employer", "you may not declare for " + w.Employer + ": no mandate"
	}
	return "", ""
}

// days is the number of days of the file's quarter.
func (v *validator) days() int {
	if v.qdays == 0 {
		v.qdays = v.f.Quarter.Days()
	}
	return v.qdays
}

// personList returns the person numbers of keys, each once, in order.
func personList(keys []int64) []string {
	slices.Sort(keys)
	keys = slices.Compact(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		n := strconv.FormatInt(k, 10)
		if len(n) < 11 { // a person number is 11 digits
			n = "00000000000"[:11-len(n)] + n
		}
		out[i] = n
	}
	return out
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
