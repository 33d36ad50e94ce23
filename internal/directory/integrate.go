package directory

import (
	"context"
	"errors"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// MaxBatch is the most lines one Integrate call takes; larger files are sent in chunks
// by the caller, each chunk its own transaction.
const MaxBatch = 1_000_000

// Integrate checks a batch of person-directory lines and applies it through the store.
// Lines are checked on their own first (identifier, codes, periods) and against the
// directory (the institution must exist); the store then checks overlaps. The report has
// one result per line, Line being the 1-based position in lines.
func (d *Directory) Integrate(ctx context.Context, actor string, lines []Line, mode BatchMode) (Report, error) {
	if len(lines) == 0 {
		return Report{}, fault.Invalidf("lines", "the batch is empty")
	}
	if len(lines) > MaxBatch {
		return Report{}, fault.Invalidf("lines", "a batch holds at most %d lines, got %d", MaxBatch, len(lines))
	}
	known, err := d.institutionSet(ctx)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Mode: modeName(mode), Lines: make([]LineResult, len(lines))}
	good := make([]Line, 0, len(lines))
	index := make([]int, 0, len(lines)) // position in lines of each good line
	for i := range lines {
		err := lines[i].Check()
		if err == nil && !known[lines[i].Institution] {
			err = fault.Invalidf("institution", "institution %q does not exist", lines[i].Institution)
		}
		if err != nil {
			rep.Lines[i] = rejected(i+1, err)
			continue
		}
		good = append(good, lines[i])
		index = append(index, i)
	}
	if len(good) < len(lines) && mode == Atomic {
		return finish(rep, good, index, nil), nil
	}
	if len(good) == 0 {
		return finish(rep, nil, nil, nil), nil
	}
	sub, err := d.store.Integrate(ctx, actor, good, mode)
	if err != nil {
		return Report{}, err
	}
	if d.index != nil {
		d.index.apply(good, sub)
	}
	return finish(rep, good, index, sub.Lines), nil
}

// finish places the store's results of the good lines (nil: none applied) into rep and counts.
func finish(rep Report, good []Line, index []int, sub []LineResult) Report {
	for j := range good {
		r := LineResult{Status: LineSkipped}
		if sub != nil {
			r = sub[j]
		}
		r.Line = index[j] + 1
		rep.Lines[index[j]] = r
	}
	for _, r := range rep.Lines {
		switch r.Status {
		case LineApplied:
			rep.Applied++
		case LineRejected:
			rep.Rejected++
		default:
			rep.Skipped++
		}
	}
	return rep
}

func rejected(line int, err error) LineResult {
	r := LineResult{Line: line, Status: LineRejected, Error: err.Error()}
	var fe *fault.Error
	if errors.As(err, &fe) {
		r.Field, r.Error = fe.Field, fe.Msg
	}
	return r
}

func modeName(m BatchMode) string {
	if m == Partial {
		return "partial"
	}
	return "atomic"
}

// institutionSet returns the codes of every institution. The set is kept between calls
// and read again only when the history shows a change to institutions since.
func (d *Directory) institutionSet(ctx context.Context) (map[string]bool, error) {
	d.instMu.Lock()
	defer d.instMu.Unlock()
	seq, err := LastSeq(ctx, d.store, KindInstitution, d.instSeq)
	if err != nil {
		return nil, err
	}
	if d.insts != nil && seq == d.instSeq {
		return d.insts, nil
	}
	set, err := d.loadInstitutions(ctx)
	if err != nil {
		return nil, err
	}
	d.insts, d.instSeq = set, seq
	return set, nil
}

func (d *Directory) loadInstitutions(ctx context.Context) (map[string]bool, error) {
	set := map[string]bool{}
	q := ListQuery{Limit: 1000}
	for {
		recs, err := d.store.ListRecords(ctx, KindInstitution, q)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			set[r.Key] = true
		}
		if len(recs) < q.Limit {
			return set, nil
		}
		q.After = recs[len(recs)-1].Key
	}
}

// Files answers "which institutions have a file on person, in which capacities, on day"
// (today when day is zero), from the store: each file with when and by whom it was
// integrated, which the in-memory index the decisions use does not keep.
func (d *Directory) Files(ctx context.Context, person string, day date.Date) ([]Integration, error) {
	if day.IsZero() {
		day = d.Today()
	}
	p, err := ident.ParsePerson(person)
	if err != nil {
		return nil, identFault("person", err)
	}
	return d.store.Files(ctx, p.String(), day)
}
