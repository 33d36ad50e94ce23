package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// KindIntegration is the history kind of integration changes.
const KindIntegration directory.Kind = "integration"

// batch is an Integrate call in progress: its lines with their person keys, and the
// result of each line so far.
type batch struct {
	lines   []directory.Line
	persons []int64
	actor   string
	at      time.Time
	results []directory.LineResult
}

func newBatch(actor string, at time.Time, lines []directory.Line) *batch {
	b := &batch{lines: lines, persons: make([]int64, len(lines)), actor: actor, at: at,
		results: make([]directory.LineResult, len(lines))}
	for i, l := range lines {
		b.results[i] = directory.LineResult{Line: i + 1, Status: directory.LineApplied}
		p, err := personKey(l.Person)
		if err != nil {
			b.reject(i, "person", message(err))
		}
		b.persons[i] = p
	}
	return b
}

// pending reports whether line i is still to be applied (it is not rejected up front).
func (b *batch) pending(i int) bool { return b.results[i].Status == directory.LineApplied }

func (b *batch) reject(i int, field, msg string) {
	b.results[i].Status, b.results[i].Field, b.results[i].Error = directory.LineRejected, field, msg
}

// Integrate applies a batch of validated lines in one transaction; see directory.PersonDirectory.
func (s *directoryStore) Integrate(ctx context.Context, actor string, lines []directory.Line, mode directory.BatchMode) (directory.Report, error) {
	b := newBatch(actor, stamp(s.db.now()), lines)
	tx, err := s.db.begin(ctx, "integrate")
	if err != nil {
		return directory.Report{}, err
	}
	defer tx.Rollback()
	if s.db.dialect == Postgres {
		err = s.applyBulk(ctx, tx, b)
	} else {
		err = s.applyEach(ctx, tx, b)
	}
	if err != nil {
		return directory.Report{}, err
	}
	rep := b.report(mode)
	if mode == directory.Atomic && rep.Rejected > 0 {
		return rep, nil // the deferred rollback undoes the good lines
	}
	summary, _ := json.Marshal(map[string]int{"applied": rep.Applied, "rejected": rep.Rejected, "lines": len(lines)})
	c := directory.Change{At: b.at, Actor: actor, Kind: KindIntegration, Key: "batch", Op: "integrate", After: summary}
	if err := s.db.appendChange(ctx, tx, c); err != nil {
		return directory.Report{}, err
	}
	return rep, commit(tx, "integrate")
}

// report counts the results; in an atomic batch with a bad line the good ones are skipped.
func (b *batch) report(mode directory.BatchMode) directory.Report {
	rep := directory.Report{Mode: "partial", Lines: b.results}
	for _, r := range b.results {
		if r.Status == directory.LineRejected {
			rep.Rejected++
		}
	}
	if mode == directory.Atomic {
		rep.Mode = "atomic"
	}
	for i := range rep.Lines {
		switch {
		case rep.Lines[i].Status != directory.LineApplied:
		case mode == directory.Atomic && rep.Rejected > 0:
			rep.Lines[i].Status = directory.LineSkipped
			rep.Skipped++
		default:
			rep.Applied++
		}
	}
	return rep
}

// Statements of the line-by-line path. The add inserts only when no period of the same
// person, institution and capacity overlaps (an exact duplicate overlaps too).
const (
	addLine = `INSERT INTO integration (person, institution, capacity, begin_date, end_date, created_at, created_by)
SELECT ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM integration
WHERE person = ? AND institution = ? AND capacity = ? AND begin_date <= ? AND end_date >= ?)`
	endLine = `UPDATE integration SET end_date = ?
WHERE person = ? AND institution = ? AND capacity = ? AND begin_date = ? AND end_date = 99991231
RETURNING created_at, created_by`
	findOverlap = `SELECT begin_date, end_date FROM integration
WHERE person = ? AND institution = ? AND capacity = ? AND begin_date <= ? AND end_date >= ?
ORDER BY begin_date LIMIT 1`
)

// applyEach applies the lines one by one with prepared statements: on SQLite, where a
// statement costs microseconds, this is the fastest way.
func (s *directoryStore) applyEach(ctx context.Context, tx *sql.Tx, b *batch) error {
	add, err := s.db.txStmt(ctx, tx, addLine)
	if err != nil {
		return mapErr(err, "integrate")
	}
	defer add.Close()
	end, err := s.db.txStmt(ctx, tx, endLine)
	if err != nil {
		return mapErr(err, "integrate")
	}
	defer end.Close()
	for i := range b.lines {
		if err := s.applyLine(ctx, tx, add, end, b, i); err != nil {
			return err
		}
	}
	return nil
}

func (s *directoryStore) applyLine(ctx context.Context, tx *sql.Tx, add, end *sql.Stmt, b *batch, i int) error {
	if !b.pending(i) {
		return nil
	}
	l, p := b.lines[i], b.persons[i]
	if l.Action == directory.ActionEnd {
		var createdAt int64
		var createdBy string
		err := end.QueryRowContext(ctx, int32(l.End), p, l.Institution, l.Capacity, int32(l.Begin)).Scan(&createdAt, &createdBy)
		if errors.Is(err, sql.ErrNoRows) {
			b.reject(i, "begin", noOpenPeriod(l))
			return nil
		}
		if err != nil {
			return mapErr(err, "integrate")
		}
		return s.db.appendChange(ctx, tx, endChange(b, l, createdAt, createdBy))
	}
	e := openEnd(l.End)
	res, err := add.ExecContext(ctx, p, l.Institution, l.Capacity, int32(l.Begin), e, b.at.UnixNano(), b.actor,
		p, l.Institution, l.Capacity, e, int32(l.Begin))
	if err != nil {
		return mapErr(err, "integrate")
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return mapErr(err, "integrate")
	}
	return s.rejectOverlap(ctx, tx, b, i)
}

// rejectOverlap finds the stored period that made an add line fail and says which.
func (s *directoryStore) rejectOverlap(ctx context.Context, tx *sql.Tx, b *batch, i int) error {
	l := b.lines[i]
	var begin, end date.Date
	err := tx.QueryRowContext(ctx, s.db.q(findOverlap), b.persons[i], l.Institution, l.Capacity,
		openEnd(l.End), int32(l.Begin)).Scan(&begin, &end)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		b.reject(i, "begin", "the period could not be recorded: it conflicts with a concurrent change")
	case err != nil:
		return mapErr(err, "integrate")
	case begin == l.Begin:
		b.reject(i, "begin", "a period of "+l.Institution+" in capacity "+l.Capacity+" beginning on "+begin.String()+" is already recorded")
	default:
		b.reject(i, "begin", "overlaps the period of "+l.Institution+" in capacity "+l.Capacity+" "+period(begin, end))
	}
	return nil
}

func noOpenPeriod(l directory.Line) string {
	return "no open period of " + l.Institution + " in capacity " + l.Capacity + " beginning on " + l.Begin.String()
}

// period writes a stored period for a message.
func period(begin, end date.Date) string {
	if end == date.Max {
		return "open since " + begin.String()
	}
	return "from " + begin.String() + " to " + end.String()
}

// endChange is the history entry of an ended period.
func endChange(b *batch, l directory.Line, createdAt int64, createdBy string) directory.Change {
	g := l.Integration
	g.End, g.CreatedAt, g.CreatedBy = 0, time.Unix(0, createdAt).UTC(), createdBy
	before, _ := json.Marshal(g)
	g.End = l.End
	after, _ := json.Marshal(g)
	return directory.Change{At: b.at, Actor: b.actor, Kind: KindIntegration, Key: g.Cursor(), Op: "end", Before: before, After: after}
}

// openEnd is the stored end of a period: date.Max while open.
func openEnd(d date.Date) int32 {
	if d.IsZero() {
		return int32(date.Max)
	}
	return int32(d)
}

// message is the safe message of a fault.
func message(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe.Msg
	}
	return "is not valid"
}
