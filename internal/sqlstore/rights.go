package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/rawjson"
	"github.com/crossroads-hub/crossroads/internal/rights"
)

// Rights returns the rights engine's store of decisions; the rights schema must have
// been opened.
func (db *DB) Rights() rights.Store { return &rightsStore{db: db} }

type rightsStore struct{ db *DB }

const decisionCols = `id, person, right_id, version, result, effective, decided_at, institution, region, age_band, household_type`

func scanDecision(r scanner, withFacts bool) (rights.Decision, error) {
	var d rights.Decision
	var p, eff int64
	var facts string
	dest := []any{&d.ID, &p, &d.Right, &d.Version, &d.Result, &eff, &d.Decided, &d.Institution, &d.Group.Region, &d.Group.AgeBand, &d.Group.HouseholdType}
	if withFacts {
		dest = append(dest, &facts)
	}
	if err := r.Scan(dest...); err != nil {
		return d, err
	}
	d.Person, d.Effective = personString(p), date.Date(eff)
	if withFacts {
		if err := json.Unmarshal([]byte(facts), &d.Facts); err != nil {
			return d, fault.Wrap(err, "decode a decision's facts")
		}
	}
	return d, nil
}

// Current reads the decisions of the persons, keeping the latest of each right.
func (s *rightsStore) Current(ctx context.Context, persons []string) ([]rights.Decision, error) {
	if len(persons) == 0 {
		return nil, nil
	}
	if len(persons) > rights.MaxPersons {
		return nil, fault.Invalidf("persons", "%d persons at once, more than %d", len(persons), rights.MaxPersons)
	}
	keys := make([]int64, len(persons))
	for i, p := range persons {
		k, err := personKey(p)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	const order = ` ORDER BY person, right_id, id`
	if s.db.dialect == Postgres {
		return s.current(ctx, `SELECT `+decisionCols+` FROM rights_decision WHERE person = ANY($1)`+order, keys)
	}
	// Padded to a power of two with the last person, one prepared statement a size (as
	// the roster's look-ups are): the follower asks about a few persons many times.
	n := 8
	for n < len(keys) {
		n *= 2
	}
	args := make([]any, n)
	for i := range args {
		args[i] = keys[min(i, len(keys)-1)]
	}
	st, err := s.db.stmt(ctx, s.db.r, `SELECT `+decisionCols+` FROM rights_decision WHERE person IN (?`+strings.Repeat(",?", n-1)+`)`+order)
	if err != nil {
		return nil, mapErr(err, "read decisions")
	}
	return s.currentOf(ctx, st.QueryContext, args...)
}

// HeldBetween reads the rights held by the persons from first to last in one ordered
// range of the index rights_decision_current (person, right, id, result: the facts and
// the rest of the row are not read), keeping the latest decision of each right.
func (s *rightsStore) HeldBetween(ctx context.Context, first, last string) ([]rights.Held, error) {
	lo, err := personKey(first)
	if err != nil {
		return nil, err
	}
	hi, err := personKey(last)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.r.QueryContext(ctx, s.db.q(`SELECT person, right_id, result = 'granted' FROM rights_decision
WHERE person BETWEEN ? AND ? ORDER BY person, right_id, id`), lo, hi)
	if err != nil {
		return nil, mapErr(err, "read decisions")
	}
	defer rows.Close()
	var out []rights.Held
	var (
		key, prev  int64 = 0, -1
		right      sql.RawBytes
		prevRight  []byte
		holds, had bool
		names      = map[string]string{} // the catalogue's few ids, each made once
		number     string                // of prev, once made
	)
	flush := func() {
		if !had {
			return
		}
		name, ok := names[string(prevRight)]
		if !ok {
			name = string(prevRight)
			names[name] = name
		}
		if number == "" {
			number = personString(prev)
		}
		out = append(out, rights.Held{Person: number, Right: name})
	}
	for rows.Next() {
		if err := rows.Scan(&key, &right, &holds); err != nil {
			return nil, mapErr(err, "read decisions")
		}
		if key != prev || string(right) != string(prevRight) { // else a later decision of the same right
			flush()
			if key != prev {
				number = ""
			}
			prev, prevRight = key, append(prevRight[:0], right...)
		}
		had = holds
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err, "read decisions")
	}
	flush()
	return out, nil
}

// current runs a query of decisions in person, right, id order and keeps the latest of
// each person's right.
func (s *rightsStore) current(ctx context.Context, q string, args ...any) ([]rights.Decision, error) {
	return s.currentOf(ctx, func(ctx context.Context, args ...any) (*sql.Rows, error) {
		return s.db.r.QueryContext(ctx, q, args...)
	}, args...)
}

func (s *rightsStore) currentOf(ctx context.Context, query func(ctx context.Context, args ...any) (*sql.Rows, error), args ...any) ([]rights.Decision, error) {
	rows, err := query(ctx, args...)
	if err != nil {
		return nil, mapErr(err, "read decisions")
	}
	defer rows.Close()
	var out []rights.Decision
	for rows.Next() {
		d, err := scanDecision(rows, false)
		if err != nil {
			return nil, mapErr(err, "read decisions")
		}
		if n := len(out); n > 0 && out[n-1].Person == d.Person && out[n-1].Right == d.Right {
			out[n-1] = d // a later decision of the same right
			continue
		}
		out = append(out, d)
	}
	return out, mapErr(rows.Err(), "read decisions")
}

const insertDecision = `INSERT INTO rights_decision (person, right_id, version, result, effective, decided_at, institution, region, age_band, household_type, facts) VALUES `
const decisionRow = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
const decisionsPerInsert = 200

// The statements of a full chunk of decisions and of their events, prepared once. On
// SQLite the decisions' ids are given (numbered on from the largest, in the transaction
// that holds the only writer), so that a chunk is one statement executed rather than a
// row returned for each decision; PostgreSQL, whose replicas may write at once, has
// them returned by its sequence.
var (
	insertDecisions   = insertDecision + decisionRow + strings.Repeat(", "+decisionRow, decisionsPerInsert-1) + ` RETURNING id`
	insertDecisionIDs = insertDecisionID + decisionIDRow + strings.Repeat(", "+decisionIDRow, decisionsPerInsert-1)
	insertRightEvents = insertRightEvent + rightEventRow + strings.Repeat(", "+rightEventRow, decisionsPerInsert-1)
)

const (
	insertDecisionID = `INSERT INTO rights_decision (id, person, right_id, version, result, effective, decided_at, institution, region, age_band, household_type, facts) VALUES `
	decisionIDRow    = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// Save appends the decisions in one transaction, many rows a statement (a full chunk's
// statement prepared once, and kept).
func (s *rightsStore) Save(ctx context.Context, ds []rights.Decision, mark rights.Mark) error {
	if len(ds) == 0 && mark.Job == "" {
		return nil
	}
	numbered := s.db.dialect != Postgres
	var full [2]*sql.Stmt              // decisions, events
	if len(ds) >= decisionsPerInsert { // prepared before the transaction holds the writer
		qs := [2]string{insertDecisions, insertRightEvents}
		if numbered {
			qs[0] = insertDecisionIDs
		}
		for i, q := range qs {
			st, err := s.db.stmt(ctx, s.db.w, q)
			if err != nil {
				return mapErr(err, "prepare the decisions' statements")
			}
			full[i] = st
		}
	}
	tx, err := s.db.begin(ctx, "save decisions")
	if err != nil {
		return err
	}
	defer tx.Rollback()
	next := int64(-1) // PostgreSQL: ids returned
	if numbered && len(ds) > 0 {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM rights_decision`).Scan(&next); err != nil {
			return mapErr(err, "save decisions")
		}
	}
	for start := 0; start < len(ds); start += decisionsPerInsert {
		chunk := ds[start:min(len(ds), start+decisionsPerInsert)]
		if err := s.insert(ctx, tx, full[0], chunk, next); err != nil {
			return err
		}
		if next >= 0 {
			next += int64(len(chunk))
		}
	}
	if err := s.events(ctx, tx, full[1], ds); err != nil {
		return err
	}
	if mark.Job != "" {
		if _, err := tx.ExecContext(ctx, s.db.q(upsertProgress), mark.Job, mark.Last); err != nil {
			return mapErr(err, "save progress")
		}
	}
	return commit(tx, "save decisions")
}

// insert writes a chunk of decisions (full: the statement of a full chunk) and sets
// their ids: after is the largest id before them, or -1 to have them returned.
func (s *rightsStore) insert(ctx context.Context, tx *sql.Tx, full *sql.Stmt, chunk []rights.Decision, after int64) error {
	args := make([]any, 0, 12*len(chunk))
	var buf []byte
	for i := range chunk {
		d := &chunk[i]
		p, err := personKey(d.Person)
		if err != nil {
			return err
		}
		if after >= 0 {
			d.ID = after + int64(i) + 1
			args = append(args, d.ID)
		}
		buf = appendFacts(buf[:0], d.Facts)
		args = append(args, p, d.Right, d.Version, d.Result, int64(d.Effective), d.Decided, d.Institution,
			d.Group.Region, d.Group.AgeBand, d.Group.HouseholdType, string(buf))
	}
	if after >= 0 {
		var err error
		if len(chunk) == decisionsPerInsert {
			_, err = tx.StmtContext(ctx, full).ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertDecisionID+decisionIDRow+strings.Repeat(", "+decisionIDRow, len(chunk)-1), args...)
		}
		return mapErr(err, "save decisions")
	}
	var rows *sql.Rows
	var err error
	if len(chunk) == decisionsPerInsert {
		rows, err = tx.StmtContext(ctx, full).QueryContext(ctx, args...)
	} else {
		rows, err = tx.QueryContext(ctx, s.db.q(insertDecision+decisionRow+strings.Repeat(", "+decisionRow, len(chunk)-1)+` RETURNING id`), args...)
	}
	if err != nil {
		return mapErr(err, "save decisions")
	}
	defer rows.Close()
	for i := 0; rows.Next(); i++ {
		if i < len(chunk) {
			if err := rows.Scan(&chunk[i].ID); err != nil {
				return mapErr(err, "save decisions")
			}
		}
	}
	return mapErr(rows.Err(), "save decisions")
}

// appendFacts appends facts as json.Marshal writes them (null for none), without
// reflection: a nation's run writes hundreds of thousands.
func appendFacts(b []byte, fs []rights.Fact) []byte {
	if fs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, f := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = rawjson.AppendString(b, f.Name)
		b = append(b, `,"value":`...)
		b = rawjson.AppendString(b, f.Value)
		b = append(b, `,"source":`...)
		b = rawjson.AppendString(b, f.Source)
		b = append(b, `,"date":`...)
		b = appendDate(b, f.Date)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendDate appends d as date.Date's MarshalJSON writes it.
func appendDate(b []byte, d date.Date) []byte {
	if d == 0 {
		return append(b, "null"...)
	}
	return rawjson.AppendString(b, d.String())
}

const upsertProgress = `INSERT INTO rights_progress (job, last) VALUES (?, ?) ON CONFLICT (job) DO UPDATE SET last = excluded.last`

// History returns every decision about person, oldest first.
func (s *rightsStore) History(ctx context.Context, person string) ([]rights.Decision, error) {
	p, err := personKey(person)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.r.QueryContext(ctx, s.db.q(`SELECT `+decisionCols+`, facts FROM rights_decision WHERE person = ? ORDER BY id`), p)
	if err != nil {
		return nil, mapErr(err, "read decisions")
	}
	defer rows.Close()
	var out []rights.Decision
	for rows.Next() {
		d, err := scanDecision(rows, true)
		if err != nil {
			return nil, mapErr(err, "read decisions")
		}
		out = append(out, d)
	}
	return out, mapErr(rows.Err(), "read decisions")
}

func (s *rightsStore) Progress(ctx context.Context, job string) (string, error) {
	var last string
	err := s.db.r.QueryRowContext(ctx, s.db.q(`SELECT last FROM rights_progress WHERE job = ?`), job).Scan(&last)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return last, mapErr(err, "read progress")
}

func (s *rightsStore) SetProgress(ctx context.Context, job, last string) error {
	var err error
	if last == "" {
		_, err = s.db.w.ExecContext(ctx, s.db.q(`DELETE FROM rights_progress WHERE job = ?`), job)
	} else {
		_, err = s.db.w.ExecContext(ctx, s.db.q(upsertProgress), job, last)
	}
	return mapErr(err, "save progress")
}

// Counts counts the current grants by right and group.
func (s *rightsStore) Counts(ctx context.Context) ([]rights.Count, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT right_id, region, age_band, household_type, count(*) FROM rights_decision d
WHERE result = 'granted' AND NOT EXISTS (SELECT 1 FROM rights_decision x WHERE x.person = d.person AND x.right_id = d.right_id AND x.id > d.id)
GROUP BY right_id, region, age_band, household_type ORDER BY right_id, region, age_band, household_type`)
	if err != nil {
		return nil, mapErr(err, "count decisions")
	}
	defer rows.Close()
	var out []rights.Count
	for rows.Next() {
		var c rights.Count
		if err := rows.Scan(&c.Right, &c.Region, &c.AgeBand, &c.HouseholdType, &c.Persons); err != nil {
			return nil, mapErr(err, "count decisions")
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err(), "count decisions")
}

const insertRightEvent = `INSERT INTO event (type, person, event_date, data, recorded_at) VALUES `
const rightEventRow = `(?, ?, ?, ?, ?)`

// events appends each decision to the built-in sources' log, in the transaction that
// stores it (the log is the outbox: the relay publishes it, the router delivers it to the
// granting institution). The decisions were written first, so the transaction holds an
// id before it takes a seq (see settle.go).
func (s *rightsStore) events(ctx context.Context, tx *sql.Tx, full *sql.Stmt, ds []rights.Decision) error {
	at := stamp(s.db.now()).UnixNano()
	args := make([]any, 0, 5*decisionsPerInsert)
	var buf []byte
	for start := 0; start < len(ds); start += decisionsPerInsert {
		chunk := ds[start:min(len(ds), start+decisionsPerInsert)]
		args = args[:0]
		for _, d := range chunk {
			p, _ := personKey(d.Person) // checked when the decisions were written
			buf = appendRightEvent(buf[:0], &d)
			args = append(args, rights.EventType, p, int32(d.Effective), string(buf), at)
		}
		var err error
		if len(chunk) == decisionsPerInsert && full != nil {
			_, err = tx.StmtContext(ctx, full).ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, s.db.q(insertRightEvent+rightEventRow+strings.Repeat(", "+rightEventRow, len(chunk)-1)), args...)
		}
		if err != nil {
			return mapErr(err, "record decisions' events")
		}
	}
	return nil
}

// appendRightEvent appends the data of a decision's event: {"decision", "right",
// "version", "result", "effective", "institution", "facts"}, as json.Marshal wrote it.
func appendRightEvent(b []byte, d *rights.Decision) []byte {
	b = append(b, `{"decision":`...)
	b = strconv.AppendInt(b, d.ID, 10)
	b = append(b, `,"right":`...)
	b = rawjson.AppendString(b, d.Right)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(d.Version), 10)
	b = append(b, `,"result":`...)
	b = rawjson.AppendString(b, d.Result)
	b = append(b, `,"effective":`...)
	b = appendDate(b, d.Effective)
	b = append(b, `,"institution":`...)
	b = rawjson.AppendString(b, d.Institution)
	b = append(b, `,"facts":`...)
	b = appendFacts(b, d.Facts)
	return append(b, '}')
}
