package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// wagesPerInsert is how many wage lines one multi-row INSERT carries on SQLite (12
// parameters each, well under its limit); relationsPerInsert the same for relations.
const (
	wagesPerInsert     = 256
	relationsPerInsert = 256
)

var (
	insertWage      = `INSERT INTO emp_wage (quarter, person, employer, file, line, wages, bonus, days, hours, fraction, contribution) VALUES `
	wageRow         = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertWagesMany = insertWage + wageRow + strings.Repeat(", "+wageRow, wagesPerInsert-1)
	insertRelation  = `INSERT INTO emp_relation (person, employer, establishment, start_date, end_date, contract, fraction, sector, status, version) VALUES `
	relationRow     = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

func (s *employmentStore) PutRelations(ctx context.Context, rels []employment.Relation) error {
	tx, err := s.db.begin(ctx, "put relations")
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for len(rels) > 0 {
		chunk := rels[:min(len(rels), relationsPerInsert)]
		rels = rels[len(chunk):]
		args := make([]any, 0, 10*len(chunk))
		for _, r := range chunk {
			p, err := personKey(r.Person)
			if err != nil {
				return err
			}
			e, err := enterpriseKey(r.Employer)
			if err != nil {
				return err
			}
			args = append(args, p, e, r.Establishment, int64(r.Start), int64(r.End), r.Contract, r.Fraction, r.Sector, cmp.Or(r.Status, employment.Active), max(r.Version, 1))
		}
		q := insertRelation + relationRow + strings.Repeat(", "+relationRow, len(chunk)-1)
		if _, err := tx.ExecContext(ctx, s.db.q(q), args...); err != nil {
			return mapErr(err, "put relations")
		}
	}
	return commit(tx, "put relations")
}

func (s *employmentStore) QuarterRelations(ctx context.Context, q employment.Quarter, fn func(person, employer int64, fraction float64)) error {
	rows, err := s.db.r.QueryContext(ctx, s.db.q(`SELECT person, employer, fraction FROM emp_relation WHERE status = ? AND start_date <= ? AND end_date >= ?`),
		employment.Active, int64(q.End()), int64(q.Start()))
	if err != nil {
		return mapErr(err, "read the quarter's relations")
	}
	defer rows.Close()
	for rows.Next() {
		var p, e int64
		var f float64
		if err := rows.Scan(&p, &e, &f); err != nil {
			return mapErr(err, "read the quarter's relations")
		}
		fn(p, e, f)
	}
	return mapErr(rows.Err(), "read the quarter's relations")
}

func (s *employmentStore) QuarterDeclared(ctx context.Context, q employment.Quarter, fn func(person, employer, amount int64)) error {
	rows, err := s.db.r.QueryContext(ctx, s.db.q(`SELECT person, employer, wages + bonus FROM emp_wage WHERE quarter = ? AND replaced = 0`), int64(q))
	if err != nil {
		return mapErr(err, "read the quarter's lines")
	}
	defer rows.Close()
	for rows.Next() {
		var p, e, a int64
		if err := rows.Scan(&p, &e, &a); err != nil {
			return mapErr(err, "read the quarter's lines")
		}
		fn(p, e, a)
	}
	return mapErr(rows.Err(), "read the quarter's lines")
}

func (s *employmentStore) File(ctx context.Context, hash string) (employment.File, bool, error) {
	var id int64
	var doc string
	err := s.db.r.QueryRowContext(ctx, s.db.q(`SELECT id, doc FROM emp_file WHERE hash = ?`), hash).Scan(&id, &doc)
	if err == sql.ErrNoRows {
		return employment.File{}, false, nil
	}
	if err != nil {
		return employment.File{}, false, mapErr(err, "read a quarterly file")
	}
	var f employment.File
	if err := json.Unmarshal([]byte(doc), &f); err != nil {
		return employment.File{}, false, fault.Wrap(err, "read a quarterly file")
	}
	f.ID = id
	return f, true, nil
}

// StoreQuarter stores the file, its lines (sorted by worker, the table's order) and marks
// the lines they replace, in one transaction.
func (s *employmentStore) StoreQuarter(ctx context.Context, f employment.File, lines []employment.WageLine, incomes []employment.Income) (employment.File, error) {
	qw, err := s.BeginQuarter(ctx, f)
	if err != nil {
		return employment.File{}, err
	}
	defer qw.Rollback()
	if err := qw.Write(ctx, sortedLines(lines)); err != nil {
		return employment.File{}, err
	}
	return qw.Commit(ctx, f, incomes)
}

// quarterWriter is one quarterly file's transaction.
type quarterWriter struct {
	s     *employmentStore
	conn  *sql.Conn // PostgreSQL: the connection of tx, for COPY
	tx    *sql.Tx
	file  int64
	q     employment.Quarter
	full  *sql.Stmt // the multi-row INSERT of wagesPerInsert lines (SQLite)
	args  []any
	reset bool // the page cache to shrink back (SQLite)
	done  bool
	look  *workerLookup // the workers of the lines written, looked up beside (SQLite)
}

// BeginQuarter opens the file's transaction and records the file (its summary saved on
// Commit); a hash already stored is a fault.Conflict.
func (s *employmentStore) BeginQuarter(ctx context.Context, f employment.File) (employment.QuarterWriter, error) {
	qw := &quarterWriter{s: s, q: f.Quarter}
	if s.db.dialect != Postgres {
		// A file's rows, events and the pages they touch stay in memory until the commit
		// rather than spill to the log midway: 256 MiB of page cache while it is stored
		// (the writer is one connection), the usual 16 MiB after.
		if _, err := s.db.w.ExecContext(ctx, `PRAGMA cache_size = -262144`); err != nil {
			return nil, mapErr(err, "store a quarterly file")
		}
		qw.reset = true
	}
	var tx *sql.Tx
	var err error
	if s.db.dialect == Postgres {
		// The lines go by COPY, on the transaction's own connection.
		if qw.conn, err = s.db.w.Conn(ctx); err != nil {
			qw.Rollback()
			return nil, mapErr(err, "store a quarterly file")
		}
		tx, err = qw.conn.BeginTx(ctx, nil)
		err = mapErr(err, "store a quarterly file")
	} else {
		tx, err = s.db.begin(ctx, "store a quarterly file")
	}
	if err != nil {
		qw.Rollback()
		return nil, err
	}
	qw.tx = tx
	if s.db.dialect != Postgres {
		qw.look = newWorkerLookup(ctx, s.db)
	}
	err = tx.QueryRowContext(ctx, s.db.q(`INSERT INTO emp_file (hash, quarter, declared_by, received_at, doc) VALUES (?, ?, ?, ?, '{}') RETURNING id`),
		f.Hash, int64(f.Quarter), f.DeclaredBy, f.Received.UnixNano()).Scan(&qw.file)
	if err != nil {
		qw.Rollback()
		return nil, mapErr(err, "store a quarterly file")
	}
	return qw, nil
}

func (qw *quarterWriter) Write(ctx context.Context, lines []employment.WageLine) error {
	f := employment.File{ID: qw.file, Quarter: qw.q}
	if qw.s.db.dialect == Postgres {
		return qw.copyWages(ctx, f, lines)
	}
	if err := qw.wagesMulti(ctx, f, lines); err != nil {
		return err
	}
	return qw.look.add(ctx, lines)
}

func (qw *quarterWriter) Commit(ctx context.Context, f employment.File, incomes []employment.Income) (employment.File, error) {
	if qw.done {
		return employment.File{}, fault.Wrap(sql.ErrTxDone, "store a quarterly file")
	}
	s, tx := qw.s, qw.tx
	f.ID = qw.file
	var err error
	var looked []worker
	if qw.look != nil {
		if looked, err = qw.look.result(); err != nil {
			return employment.File{}, err
		}
	}
	if f.Mutations, err = s.incomes(ctx, tx, f.Quarter, incomes, looked); err != nil {
		return employment.File{}, err
	}
	doc, _ := json.Marshal(f)
	if _, err := tx.ExecContext(ctx, s.db.q(`UPDATE emp_file SET doc = ? WHERE id = ?`), string(doc), f.ID); err != nil {
		return employment.File{}, mapErr(err, "store a quarterly file")
	}
	if f.Replaced > 0 {
		_, err = tx.ExecContext(ctx, s.db.q(`UPDATE emp_wage SET replaced = 1 WHERE quarter = ? AND file < ? AND replaced = 0
AND EXISTS (SELECT 1 FROM emp_wage n WHERE n.quarter = emp_wage.quarter AND n.person = emp_wage.person AND n.employer = emp_wage.employer AND n.file = ?)`),
			int64(f.Quarter), f.ID, f.ID)
		if err != nil {
			return employment.File{}, mapErr(err, "store a quarterly file")
		}
	}
	if qw.full != nil {
		qw.full.Close()
		qw.full = nil
	}
	err = commit(tx, "store a quarterly file")
	qw.Rollback()
	return f, err
}

func (qw *quarterWriter) Rollback() {
	if qw.done {
		return
	}
	qw.done = true
	if qw.full != nil {
		qw.full.Close()
	}
	if qw.look != nil {
		qw.look.stop()
	}
	if qw.tx != nil {
		qw.tx.Rollback()
	}
	if qw.conn != nil {
		qw.conn.Close() // back to the pool
	}
	if qw.reset {
		qw.s.db.w.ExecContext(context.Background(), `PRAGMA cache_size = -16384`)
	}
}

// sortedLines returns lines by worker and employer, the table's order, sorting small
// keys rather than the lines themselves.
func sortedLines(lines []employment.WageLine) []employment.WageLine {
	type k struct {
		p, e int64
		i    int
	}
	keys := make([]k, len(lines))
	for i, w := range lines {
		keys[i] = k{w.PersonKey, w.EmployerKey, i}
	}
	slices.SortFunc(keys, func(a, b k) int { return cmp.Or(cmp.Compare(a.p, b.p), cmp.Compare(a.e, b.e)) })
	out := make([]employment.WageLine, len(lines))
	for i, key := range keys {
		out[i] = lines[key.i]
	}
	return out
}

// wagesMulti inserts lines wagesPerInsert at a time with one prepared statement, kept for
// the whole file, the rest in one statement of their own.
func (qw *quarterWriter) wagesMulti(ctx context.Context, f employment.File, lines []employment.WageLine) error {
	for len(lines) > 0 {
		chunk := lines[:min(len(lines), wagesPerInsert)]
		lines = lines[len(chunk):]
		args := qw.args[:0]
		for _, w := range chunk {
			args = append(args, int64(f.Quarter), w.PersonKey, w.EmployerKey, f.ID, w.Line, w.Wages, w.Bonus, w.Days, w.Hours, w.Fraction, w.Contribution)
		}
		qw.args = args
		var err error
		if len(chunk) == wagesPerInsert {
			if qw.full == nil {
				if qw.full, err = qw.tx.PrepareContext(ctx, insertWagesMany); err != nil {
					return mapErr(err, "store a quarterly file")
				}
			}
			_, err = qw.full.ExecContext(ctx, args...)
		} else {
			_, err = qw.tx.ExecContext(ctx, insertWage+wageRow+strings.Repeat(", "+wageRow, len(chunk)-1), args...)
		}
		if err != nil {
			return mapErr(err, "store a quarterly file")
		}
	}
	return nil
}

// wageColumns are the columns COPY fills, in the order of wageRows.
var wageColumns = []string{"quarter", "person", "employer", "file", "line", "wages", "bonus", "days", "hours", "fraction", "contribution"}

// copyWages sends the lines to PostgreSQL with COPY (pgx's CopyFrom, the binary format)
// in the file's transaction: no statement to parse or plan, no arrays to unpack.
func (qw *quarterWriter) copyWages(ctx context.Context, f employment.File, lines []employment.WageLine) error {
	err := qw.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("not a pgx connection: %T", dc)
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{"emp_wage"}, wageColumns, &wageRows{f: f, lines: lines, at: -1})
		return err
	})
	return mapErr(err, "store a quarterly file")
}

// wageRows is a pgx.CopyFromSource over lines, reusing one row.
type wageRows struct {
	f     employment.File
	lines []employment.WageLine
	at    int
	row   [11]any
}

func (r *wageRows) Next() bool { r.at++; return r.at < len(r.lines) }

func (r *wageRows) Values() ([]any, error) {
	w := &r.lines[r.at]
	r.row = [11]any{int64(r.f.Quarter), w.PersonKey, w.EmployerKey, r.f.ID, int64(w.Line), w.Wages, w.Bonus, int64(w.Days), w.Hours, w.Fraction, w.Contribution}
	return r.row[:], nil
}

func (r *wageRows) Err() error { return nil }

func (s *employmentStore) WageLines(ctx context.Context, person string) ([]employment.WageLine, error) {
	p, err := personKey(person)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.r.QueryContext(ctx, s.db.q(`SELECT w.quarter, w.employer, w.file, w.line, w.wages, w.bonus, w.days, w.hours, w.fraction, w.contribution, w.replaced, f.declared_by
FROM emp_wage w JOIN emp_file f ON f.id = w.file WHERE w.person = ? ORDER BY w.quarter, w.employer, w.file`), p)
	if err != nil {
		return nil, mapErr(err, "list wage lines")
	}
	defer rows.Close()
	out := []employment.WageLine{}
	for rows.Next() {
		w := employment.WageLine{Person: personString(p), PersonKey: p}
		var q, replaced int64
		if err := rows.Scan(&q, &w.EmployerKey, &w.File, &w.Line, &w.Wages, &w.Bonus, &w.Days, &w.Hours, &w.Fraction, &w.Contribution, &replaced, &w.DeclaredBy); err != nil {
			return nil, mapErr(err, "list wage lines")
		}
		w.Quarter, w.Employer, w.Replaced = employment.Quarter(q), enterpriseString(w.EmployerKey), replaced != 0
		out = append(out, w)
	}
	return out, mapErr(rows.Err(), "list wage lines")
}

// incomesPerStatement is how many workers one look-up in the register carries on
// SQLite; eventsPerIncomeInsert how many income events one INSERT carries.
const (
	incomesPerStatement   = 4096
	eventsPerIncomeInsert = 256
)

// incomes appends the income events of the workers the register holds, in tx (the event
// log is the built-in sources' outbox), and marks those with no registry change yet as
// having some (a count of 1), so the derived registries read their events: a worker
// hired through a declaration has some already, and a file of a million workers does
// not rewrite a million records each quarter. It returns how many events it appended.
// On SQLite the events are pending (events_pending.go: no copy of the person), and
// looked are the workers already looked up in the register beside the writer
// (employment_workers.go); a worker not among them is looked up here.
func (s *employmentStore) incomes(ctx context.Context, tx *sql.Tx, q employment.Quarter, incomes []employment.Income, looked []worker) (int, error) {
	day, now := int64(q.Start()), stamp(s.db.now()).UnixNano()
	if s.db.dialect == Postgres {
		return s.incomesBulk(ctx, tx, day, now, incomes)
	}
	byPerson := func(a, b employment.Income) int { return cmp.Compare(a.Person, b.Person) }
	if !slices.IsSortedFunc(incomes, byPerson) {
		incomes = slices.Clone(incomes)
		slices.SortFunc(incomes, byPerson)
	}
	var held, unknown []employment.Income
	var unmarked []any
	j := 0
	for _, in := range incomes {
		for j < len(looked) && looked[j].key < in.Person {
			j++
		}
		switch {
		case j == len(looked) || looked[j].key != in.Person:
			unknown = append(unknown, in)
		case looked[j].held:
			held = append(held, in)
			if looked[j].unmarked {
				unmarked = append(unmarked, in.Person)
			}
		}
	}
	for len(unknown) > 0 {
		chunk := unknown[:min(len(unknown), incomesPerStatement)]
		unknown = unknown[len(chunk):]
		h, err := heldWorkers(ctx, tx, chunk)
		if err != nil {
			return 0, err
		}
		held = append(held, h...)
	}
	slices.SortFunc(held, byPerson)
	for len(unmarked) > 0 {
		chunk := unmarked[:min(len(unmarked), incomesPerStatement)]
		unmarked = unmarked[len(chunk):]
		if err := markChanged(ctx, tx, chunk); err != nil {
			return 0, err
		}
	}
	ins := incomeInserter{tx: tx, day: day, now: now}
	defer ins.close()
	if err := ins.add(ctx, held); err != nil {
		return 0, err
	}
	return len(held), ins.flush(ctx)
}

// markChanged gives the persons keys a count of registry changes of 1.
func markChanged(ctx context.Context, tx *sql.Tx, keys []any) error {
	_, err := tx.ExecContext(ctx, `UPDATE person SET doc = json_set(doc, '$.registry_changes', 1) WHERE number IN (?`+
		strings.Repeat(", ?", len(keys)-1)+`)`, keys...)
	return mapErr(err, "store a quarterly file's incomes")
}

// heldWorkers returns the incomes of chunk (in number order) whose worker the register
// holds, in the same order, and marks those without registry changes as having one.
func heldWorkers(ctx context.Context, tx *sql.Tx, chunk []employment.Income) ([]employment.Income, error) {
	keys := make([]any, len(chunk))
	for i, in := range chunk {
		keys[i] = in.Person
	}
	rows, err := tx.QueryContext(ctx, lookWorkers(len(keys))+` ORDER BY number`, keys...)
	if err != nil {
		return nil, mapErr(err, "store a quarterly file's incomes")
	}
	held := chunk[:0:0]
	var unmarked []any
	i := 0
	for rows.Next() {
		var n int64
		var none bool
		if err := rows.Scan(&n, &none); err != nil {
			rows.Close()
			return nil, mapErr(err, "store a quarterly file's incomes")
		}
		for i < len(chunk) && chunk[i].Person < n {
			i++
		}
		if i < len(chunk) && chunk[i].Person == n {
			held = append(held, chunk[i])
		}
		if none {
			unmarked = append(unmarked, n)
		}
	}
	if err := rows.Close(); err != nil {
		return nil, mapErr(err, "store a quarterly file's incomes")
	}
	if len(unmarked) > 0 {
		if err := markChanged(ctx, tx, unmarked); err != nil {
			return nil, err
		}
	}
	return held, nil
}

// incomeInserter appends pending income events eventsPerIncomeInsert at a time, with
// one prepared statement.
type incomeInserter struct {
	tx       *sql.Tx
	day, now int64
	full     *sql.Stmt
	args     []any
}

// incomeEvents is the INSERT of n income events: the type, day and instant once, then
// each worker and data.
func incomeEvents(n int) string {
	return `INSERT INTO event (type, person, event_date, data, recorded_at) SELECT ?1, v.column1, ?2, v.column2, ?3 FROM (VALUES (?, ?)` +
		strings.Repeat(", (?, ?)", n-1) + `) AS v`
}

func (ins *incomeInserter) add(ctx context.Context, held []employment.Income) error {
	for _, in := range held {
		if len(ins.args) == 0 {
			ins.args = append(ins.args, pendingType, ins.day, ins.now)
		}
		ins.args = append(ins.args, in.Person, string(in.Data()))
		if len(ins.args) < 3+2*eventsPerIncomeInsert {
			continue
		}
		if ins.full == nil {
			var err error
			if ins.full, err = ins.tx.PrepareContext(ctx, incomeEvents(eventsPerIncomeInsert)); err != nil {
				return mapErr(err, "store a quarterly file's incomes")
			}
		}
		if _, err := ins.full.ExecContext(ctx, ins.args...); err != nil {
			return mapErr(err, "store a quarterly file's incomes")
		}
		ins.args = ins.args[:0]
	}
	return nil
}

// flush appends the events left, fewer than eventsPerIncomeInsert.
func (ins *incomeInserter) flush(ctx context.Context) error {
	if len(ins.args) == 0 {
		return nil
	}
	_, err := ins.tx.ExecContext(ctx, incomeEvents((len(ins.args)-3)/2), ins.args...)
	ins.args = ins.args[:0]
	return mapErr(err, "store a quarterly file's incomes")
}

func (ins *incomeInserter) close() {
	if ins.full != nil {
		ins.full.Close()
	}
}

// incomesBulk is incomes on PostgreSQL, the incomes as arrays.
func (s *employmentStore) incomesBulk(ctx context.Context, tx *sql.Tx, day, now int64, incomes []employment.Income) (int, error) {
	if len(incomes) == 0 {
		return 0, nil
	}
	p, d := make([]int64, len(incomes)), make([]string, len(incomes))
	for i, in := range incomes {
		p[i], d[i] = in.Person, string(in.Data())
	}
	_, err := tx.ExecContext(ctx, `UPDATE person SET doc = jsonb_set(doc::jsonb, '{registry_changes}', '1')::json
WHERE number = ANY($1) AND doc->>'registry_changes' IS NULL`, p)
	if err != nil {
		return 0, mapErr(err, "store a quarterly file's incomes")
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO event (type, person, event_date, data, recorded_at, person_after)
SELECT $1, u.p, $2, u.d::json, $3, person.doc FROM unnest($4::bigint[], $5::text[]) WITH ORDINALITY AS u(p, d, o) JOIN person ON person.number = u.p ORDER BY u.o`,
		employment.EventIncome, day, now, p, d)
	if err != nil {
		return 0, mapErr(err, "store a quarterly file's incomes")
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
