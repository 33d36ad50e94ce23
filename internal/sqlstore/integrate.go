package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// kindIntegration is the history kind of the person directory's changes.
const kindIntegration directory.Kind = "integration"

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
	c := directory.Change{At: b.at, Actor: actor, Kind: kindIntegration, Key: "batch", Op: "integrate", After: summary}
	if err := s.db.appendChange(ctx, tx, c); err != nil {
		return directory.Report{}, err
	}
	if err := commit(tx, "integrate"); err != nil {
		return directory.Report{}, err
	}
	if s.db.snap != nil {
		s.db.snap.gen.Add(1) // read transactions older than this batch end now
	}
	return rep, nil
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

// Statements of the line-by-line path. An add must not overlap a period of the same
// person, institution and capacity (an exact duplicate overlaps too): on SQLite a trigger
// refuses the insert, and the line is then rejected with the period findOverlap finds; on
// PostgreSQL findOverlap runs first.
const (
	findOverlap = `SELECT begin_date, end_date FROM integration
WHERE person = ? AND institution = ? AND capacity = ? AND begin_date <= ? AND end_date >= ?
ORDER BY begin_date LIMIT 1`
	insertLine = `INSERT INTO integration (person, institution, capacity, begin_date, end_date, created_at, created_by)
VALUES (?, ?, ?, ?, ?, ?, ?)`
	endLine = `UPDATE integration SET end_date = ?
WHERE person = ? AND institution = ? AND capacity = ? AND begin_date = ? AND end_date = 99991231
RETURNING created_at, created_by`
)

// lineStmts are the prepared statements of the line-by-line path, bound to a transaction.
type lineStmts struct{ find, insert, end *sql.Stmt }

func (s *directoryStore) prepareLines(ctx context.Context, tx *sql.Tx) (*lineStmts, error) {
	var st lineStmts
	var err error
	for _, p := range []struct {
		to    **sql.Stmt
		query string
	}{{&st.find, findOverlap}, {&st.insert, insertLine}, {&st.end, endLine}} {
		if *p.to, err = s.db.txStmt(ctx, tx, p.query); err != nil {
			return nil, mapErr(err, "integrate")
		}
	}
	return &st, nil
}

// applyEach applies the lines one by one with prepared statements: on SQLite, where a
// statement costs microseconds, this is about as fast as it gets (multi-row inserts were
// measured no faster: the time goes to the B-trees, not to the statements).
func (s *directoryStore) applyEach(ctx context.Context, tx *sql.Tx, b *batch) error {
	st, err := s.prepareLines(ctx, tx)
	if err != nil {
		return err
	}
	var multi *sql.Stmt
	for i := 0; i < len(b.lines); {
		if s.db.dialect == SQLite && b.addRun(i) {
			if multi == nil {
				if multi, err = tx.PrepareContext(ctx, insertLines); err != nil {
					return mapErr(err, "integrate")
				}
				defer multi.Close()
			}
			done, err := s.applyRun(ctx, multi, b, i)
			if err != nil {
				return err
			}
			if done {
				i += linesPerInsert
				continue
			}
		}
		if err := s.applyLine(ctx, tx, st, b, i); err != nil {
			return err
		}
		i++
	}
	return nil
}

// linesPerInsert is how many add lines one multi-row INSERT carries on SQLite, where
// the cost is mostly per statement. A run with an overlap fails as a whole (the trigger
// aborts the statement, not the transaction) and is then applied line by line.
const linesPerInsert = 64

var insertLines = `INSERT INTO integration (person, institution, capacity, begin_date, end_date, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)` +
	strings.Repeat(`, (?, ?, ?, ?, ?, ?, ?)`, linesPerInsert-1)

// addRun reports whether the linesPerInsert lines from i are all pending additions.
func (b *batch) addRun(i int) bool {
	if i+linesPerInsert > len(b.lines) {
		return false
	}
	for j := i; j < i+linesPerInsert; j++ {
		if !b.pending(j) || b.lines[j].Action == directory.ActionEnd {
			return false
		}
	}
	return true
}

// applyRun inserts the run from i in one statement; false means it must go line by line.
func (s *directoryStore) applyRun(ctx context.Context, multi *sql.Stmt, b *batch, i int) (bool, error) {
	args := make([]any, 0, 7*linesPerInsert)
	for j := i; j < i+linesPerInsert; j++ {
		l := b.lines[j]
		args = append(args, b.persons[j], l.Institution, l.Capacity, int32(l.Begin), openEnd(l.End), b.at.UnixNano(), b.actor)
	}
	_, err := multi.ExecContext(ctx, args...)
	if err == nil {
		return true, nil
	}
	if isOverlap(err) || isUnique(err) {
		return false, nil
	}
	return false, mapErr(err, "integrate")
}

func (s *directoryStore) applyLine(ctx context.Context, tx *sql.Tx, st *lineStmts, b *batch, i int) error {
	if !b.pending(i) {
		return nil
	}
	if b.lines[i].Action == directory.ActionEnd {
		return s.endOne(ctx, tx, st, b, i)
	}
	if s.db.dialect == Postgres { // no overlap trigger there: look before inserting
		if rejected, err := s.rejectOverlap(ctx, st.find, b, i); rejected || err != nil {
			return err
		}
	}
	l, e := b.lines[i], openEnd(b.lines[i].End)
	_, err := st.insert.ExecContext(ctx, b.persons[i], l.Institution, l.Capacity, int32(l.Begin), e, b.at.UnixNano(), b.actor)
	if !isOverlap(err) {
		return mapErr(err, "integrate")
	}
	rejected, err := s.rejectOverlap(ctx, st.find, b, i)
	if err == nil && !rejected {
		b.reject(i, "begin", "the period overlaps another one of "+l.Institution+" in capacity "+l.Capacity)
	}
	return err
}

// endOne closes the open period line i names and records it in the history.
func (s *directoryStore) endOne(ctx context.Context, tx *sql.Tx, st *lineStmts, b *batch, i int) error {
	l := b.lines[i]
	var createdAt int64
	var createdBy string
	err := st.end.QueryRowContext(ctx, int32(l.End), b.persons[i], l.Institution, l.Capacity, int32(l.Begin)).Scan(&createdAt, &createdBy)
	if errors.Is(err, sql.ErrNoRows) {
		b.reject(i, "begin", noOpenPeriod(l))
		return nil
	}
	if err != nil {
		return mapErr(err, "integrate")
	}
	return s.db.appendChange(ctx, tx, endChange(b, l, createdAt, createdBy))
}

// rejectOverlap looks for a stored period that overlaps add line i and, if there is one,
// rejects the line saying which.
func (s *directoryStore) rejectOverlap(ctx context.Context, find *sql.Stmt, b *batch, i int) (bool, error) {
	l := b.lines[i]
	var begin, end int64
	err := find.QueryRowContext(ctx, b.persons[i], l.Institution, l.Capacity, openEnd(l.End), int32(l.Begin)).Scan(&begin, &end)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, mapErr(err, "integrate")
	}
	b.reject(i, "begin", overlapMessage(l, date.Date(begin), date.Date(end)))
	return true, nil
}

// overlapMessage says which stored period an add line overlaps.
func overlapMessage(l directory.Line, begin, end date.Date) string {
	if begin == l.Begin {
		return "a period of " + l.Institution + " in capacity " + l.Capacity + " beginning on " + begin.String() + " is already recorded"
	}
	return "overlaps the period of " + l.Institution + " in capacity " + l.Capacity + " " + period(begin, end)
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
	return directory.Change{At: b.at, Actor: b.actor, Kind: kindIntegration, Key: g.Cursor(), Op: "end", Before: before, After: after}
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
