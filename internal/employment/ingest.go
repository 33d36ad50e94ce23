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
	Hash   string // the file's hex SHA-256 when the caller computed it; "": read to compute it
	Format string
	By     string // the declaring institution, or the operator
	// May says whether By may declare for an employer (enterprise number); a refusal
	// rejects the line. Required: Operator allows everything.
	May func(employer string) error
	// Progress, if set, is called with the lines read so far, every 65,536 lines.
	Progress func(lines int)
}

// chunkLines is how many lines pass at once from the reader to the checks and from the
// checks to the store; queued bounds the chunks waiting at each step, so a file is never
// held whole in memory (a few hundred thousand lines at most in flight).
const (
	chunkLines = 4096
	queued     = 16
)

// sortWindow is how many accepted lines the writer is handed at once, sorted in the
// table's order: the larger, the closer the inserts come to the table's order (the
// clustered emp_wage and its index by worker are written page after page rather than
// all over), at the memory of a few windows; writesQueued bounds the windows waiting.
const (
	sortWindow   = 32768
	writesQueued = 2
)

// MaxReport bounds the verdicts a file's report lists; those beyond are only counted
// (File.Unlisted).
const MaxReport = 100_000

// Ingest validates a quarterly file line by line and stores its accepted lines in one
// transaction, with its report. The same bytes a second time give the first report
// without storing anything (idempotent by hash). Every line is checked on its own
// (identifiers with their check digits, the quarter, amounts, days and hours within the
// quarter, the fraction in [0, 1], the mandate, an employment relation with the employer
// overlapping the quarter, no second line for the same worker and employer); the
// quarter is the first readable line's. A line for a worker and employer already
// declared for the quarter replaces the earlier one, which is kept as history.
//
// The file streams through three steps, each its own goroutine: reading (and splitting
// the lines), checking, and writing the lines accepted into the file's open transaction,
// chunk by chunk; what a worker's income needs is kept per relation, not per line.
func (s *Source) Ingest(ctx context.Context, in Import) (f File, again bool, err error) {
	if in.May == nil {
		return File{}, false, fault.Wrap(errors.New("no mandate check"), "import a quarterly file")
	}
	hash := in.Hash
	if hash == "" {
		h := sha256.New()
		if _, err := io.Copy(h, in.File); err != nil {
			return File{}, false, fault.Invalidf("file", "cannot be read: %v", err)
		}
		hash = hex.EncodeToString(h.Sum(nil))
	}
	f = File{Hash: hash, Format: in.Format, DeclaredBy: in.By, Received: s.now(), Report: []LineResult{}}
	if old, ok, err := s.Store.File(ctx, f.Hash); err != nil || ok {
		return old, ok, err
	}
	if _, err := in.File.Seek(0, io.SeekStart); err != nil {
		return File{}, false, fault.Wrap(err, "read the file again")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // the quarter's reading, if the checks stopped first
	v := &validator{s: s, in: in, f: &f, ctx: ctx, mandates: map[string]error{}}
	defer v.stop()
	stored, err := v.ingest()
	if fault.KindOf(err) == fault.Conflict { // the same file, stored meanwhile
		if old, ok, ferr := s.Store.File(ctx, f.Hash); ferr == nil && ok {
			return old, true, nil
		}
	}
	return stored, false, err
}

// ingest reads, checks and stores the file.
func (v *validator) ingest() (File, error) {
	rctx, stopReading := context.WithCancel(v.ctx)
	defer stopReading()
	chunks := make(chan []Parsed, queued)
	parsed := make(chan error, 1)
	go func() { parsed <- readChunks(rctx, v.in, chunks) }()
	err := v.run(chunks)
	stopReading() // the reader stops if the checks did
	for range chunks {
	}
	if perr := <-parsed; err == nil && perr != nil {
		err = perr
	}
	if err == nil {
		err = v.finish()
	}
	if err != nil {
		return File{}, err
	}
	if v.f.Quarter == 0 {
		return File{}, fault.Invalidf("file", "holds no wage line that could be read")
	}
	v.f.Persons = personList(v.persons)
	return v.w.Commit(v.ctx, *v.f, v.incomes())
}

// readChunks parses the file into chunks of lines sent on out, closed at the end.
func readChunks(ctx context.Context, in Import, out chan<- []Parsed) error {
	defer close(out)
	chunk := make([]Parsed, 0, chunkLines)
	send := func() error {
		select {
		case out <- chunk:
			chunk = make([]Parsed, 0, chunkLines)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err := Parse(in.File, in.Format, func(p Parsed) error {
		chunk = append(chunk, p)
		if len(chunk) == chunkLines {
			return send()
		}
		return nil
	})
	if err == nil && len(chunk) > 0 {
		err = send()
	}
	return err
}

type key struct{ person, employer int64 }

// validator checks a file's lines as they come. Each line is checked on its own
// (identifiers, plausibility, the mandate); at the first readable line the quarter's
// relations and lines already in force are read and the file's transaction opened,
// then each line is checked against them (a relation, no second line for the same
// worker and employer, the fraction) and handed, in chunks, to the writer.
type validator struct {
	s        *Source
	in       Import
	f        *File
	ctx      context.Context
	loaded   chan error // the quarter's relations read
	ready    bool
	rels     map[key]int32
	slots    []slot
	mandates map[string]error
	lastEmp  string // the last employer's mandate, most files being grouped by employer
	lastErr  error
	qdays    int
	persons  []int64 // the valid person numbers read, repeats too

	w       QuarterWriter
	out     []WageLine      // accepted lines not yet handed to the writer
	writes  chan []WageLine // to the writer
	written chan error      // the writer's outcome
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

// run checks the chunks as they come and hands the accepted lines to the writer.
func (v *validator) run(chunks <-chan []Parsed) error {
	for chunk := range chunks {
		for _, p := range chunk {
			if err := v.line(p); err != nil {
				return err
			}
		}
		if err := v.flush(sortWindow); err != nil {
			return err
		}
	}
	return nil
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
	w.Line = p.Line
	if !v.ready {
		if err := <-v.loaded; err != nil {
			return err
		}
		v.ready = true
	}
	v.relate(w)
	return nil
}

func (v *validator) reject(r LineResult) {
	v.f.Rejected++
	v.note(r)
}

// note lists a verdict in the report, up to MaxReport.
func (v *validator) note(r LineResult) {
	if len(v.f.Report) >= MaxReport {
		v.f.Unlisted++
		return
	}
	v.f.Report = append(v.f.Report, r)
}

// start reads, beside the parsing, what the checks need of quarter q, and opens the
// file's transaction with a writer that stores the chunks it is handed.
func (v *validator) start(q Quarter) error {
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
	w, err := v.s.Store.BeginQuarter(v.ctx, *v.f)
	if err != nil {
		<-v.loaded // not read again: the file is refused
		return err
	}
	v.w = w
	writes, written := make(chan []WageLine, writesQueued), make(chan error, 1)
	v.writes, v.written = writes, written
	go func() {
		var err error
		for lines := range writes {
			if err == nil {
				err = w.Write(v.ctx, lines)
			}
		}
		written <- err
	}()
	return nil
}

// flush hands the accepted lines to the writer once there are at least n.
func (v *validator) flush(n int) error {
	if len(v.out) < n || len(v.out) == 0 {
		return nil
	}
	sortLines(v.out)
	select {
	case v.writes <- v.out:
	case err := <-v.written: // the writer stopped early: its error
		v.written <- err
		return err
	}
	v.out = make([]WageLine, 0, sortWindow)
	return nil
}

// finish hands the last lines to the writer and waits for it.
func (v *validator) finish() error {
	if v.w == nil {
		return nil
	}
	if !v.ready {
		if err := <-v.loaded; err != nil {
			return err
		}
		v.ready = true
	}
	if err := v.flush(1); err != nil {
		return err
	}
	close(v.writes)
	v.writes = nil
	err := <-v.written
	v.written <- err
	return err
}

// stop rolls the file's transaction back unless it was committed, after the writer.
func (v *validator) stop() {
	if v.w == nil {
		return
	}
	if v.writes != nil {
		close(v.writes)
	}
	err := <-v.written
	v.written <- err
	v.w.Rollback()
}

// relate checks a line against the quarter's relations and the lines kept before it.
func (v *validator) relate(w WageLine) {
	i, ok := v.rels[key{w.PersonKey, w.EmployerKey}]
	if !ok {
		v.reject(LineResult{Line: w.Line, Verdict: Rejected, Field: "person",
			Reason: fmt.Sprintf("no employment relation of %s with %s overlaps %s", w.Person, w.Employer, v.f.Quarter)})
		return
	}
	sl := &v.slots[i]
	if sl.line != 0 {
		v.reject(LineResult{Line: w.Line, Verdict: Rejected, Field: "person", Reason: fmt.Sprintf("duplicates line %d (the same worker and employer)", sl.line)})
		return
	}
	sl.line, sl.amount = w.Line, w.Wages+w.Bonus
	v.f.Accepted++
	if sl.declared {
		v.f.Replaced++
	}
	if math.Abs(sl.fraction-w.Fraction) > 0.01 {
		v.f.Warnings++
		v.note(LineResult{Line: w.Line, Verdict: Warning, Field: "fraction",
			Reason: fmt.Sprintf("%g differs from the relation's %g", w.Fraction, sl.fraction)})
	}
	v.out = append(v.out, w)
}

// sortLines sorts a chunk by worker and employer, the table's order.
func sortLines(lines []WageLine) {
	slices.SortFunc(lines, func(a, b WageLine) int {
		return cmp.Or(cmp.Compare(a.PersonKey, b.PersonKey), cmp.Compare(a.EmployerKey, b.EmployerKey))
	})
}

// incomes returns the monthly income of each worker with an accepted line, in number
// order: the lines of this file and, for their other employers, the lines in force.
func (v *validator) incomes() []Income {
	changed := make(map[int64]int64, v.f.Accepted)
	for _, sl := range v.slots {
		if sl.line != 0 {
			changed[sl.person] = 0
		}
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
