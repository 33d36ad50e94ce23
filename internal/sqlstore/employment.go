package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// Employment returns the employment source's store; the employment schema must have
// been opened, and the civil schema in the same database for declarations that become
// the social registry's events.
func (db *DB) Employment() employment.Store { return &employmentStore{db: db} }

type employmentStore struct{ db *DB }

const relationCols = `id, person, employer, establishment, start_date, end_date, contract, fraction, sector, status, version`

func enterpriseKey(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || len(s) != 10 {
		return 0, fault.Invalidf("employer", "%q is not an enterprise number", s)
	}
	return n, nil
}

func enterpriseString(n int64) string {
	s := strconv.FormatInt(n, 10)
	for len(s) < 10 {
		s = "0" + s
	}
	return s
}

func scanRelation(r scanner) (employment.Relation, error) {
	var rel employment.Relation
	var p, e int64
	var start, end int64
	err := r.Scan(&rel.ID, &p, &e, &rel.Establishment, &start, &end, &rel.Contract, &rel.Fraction, &rel.Sector, &rel.Status, &rel.Version)
	rel.Person, rel.Employer, rel.Start, rel.End = personString(p), enterpriseString(e), date.Date(start), date.Date(end)
	return rel, err
}

// Apply records d, the relation as it makes it and, when ev is set, the social
// registry's event, in one transaction. On SQLite, declarations arriving together share
// one transaction (group commit, employment_group.go), each answered after it commits.
func (s *employmentStore) Apply(ctx context.Context, d employment.Declaration, rel employment.Relation, ev *employment.Mutation) (employment.Declaration, error) {
	if s.db.dialect != Postgres {
		return s.db.applies.apply(ctx, s, d, rel, ev)
	}
	tx, err := s.db.begin(ctx, "record a declaration")
	if err != nil {
		return employment.Declaration{}, err
	}
	defer tx.Rollback()
	if d, err = s.applyTx(ctx, tx, d, rel, ev); err != nil {
		return employment.Declaration{}, err
	}
	return d, commit(tx, "record a declaration")
}

// The statements an immediate declaration runs, prepared at Open (sql.go, writeStmts).
const (
	openRelationSQL   = `SELECT 1 FROM emp_relation WHERE person = ? AND employer = ? AND status = ? AND end_date >= ? LIMIT 1`
	insertRelationSQL = `INSERT INTO emp_relation (person, employer, establishment, start_date, end_date, contract, fraction, sector, status, version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING id`
	insertDeclarationSQL = `INSERT INTO emp_declaration (relation, person, kind, declared_by, received_at, late, event, doc, prior)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
)

// applyTx is Apply's work in tx.
func (s *employmentStore) applyTx(ctx context.Context, tx *sql.Tx, d employment.Declaration, rel employment.Relation, ev *employment.Mutation) (employment.Declaration, error) {
	p, err := personKey(rel.Person)
	if err != nil {
		return employment.Declaration{}, err
	}
	e, err := enterpriseKey(rel.Employer)
	if err != nil {
		return employment.Declaration{}, err
	}
	var prior any
	if rel.ID == 0 {
		if d.Event, err = s.hireTx(ctx, tx, p, e, rel, ev); err != nil {
			return employment.Declaration{}, err
		}
		err = s.db.txQueryRow(ctx, tx, insertRelationSQL, p, e, rel.Establishment, int64(rel.Start), int64(rel.End), rel.Contract, rel.Fraction, rel.Sector, rel.Status).Scan(&rel.ID)
		if err != nil {
			return employment.Declaration{}, mapErr(err, "record a declaration")
		}
	} else {
		if ev != nil {
			if d.Event, err = s.appendEvent(ctx, tx, *ev); err != nil {
				return employment.Declaration{}, err
			}
		}
		before, err := scanRelation(tx.QueryRowContext(ctx, s.db.q(`SELECT `+relationCols+` FROM emp_relation WHERE id = ?`+s.db.forUpdate()), rel.ID))
		if err != nil {
			return employment.Declaration{}, mapErr(err, "record a declaration")
		}
		if before.Version != rel.Version {
			return employment.Declaration{}, fault.Conflictf("relation", "relation %d changed meanwhile: declare again", rel.ID)
		}
		b, _ := json.Marshal(before)
		prior = string(b)
		_, err = tx.ExecContext(ctx, s.db.q(`UPDATE emp_relation SET establishment = ?, end_date = ?, contract = ?, fraction = ?, sector = ?, status = ?, version = version + 1 WHERE id = ?`),
			rel.Establishment, int64(rel.End), rel.Contract, rel.Fraction, rel.Sector, rel.Status, rel.ID)
		if err != nil {
			return employment.Declaration{}, mapErr(err, "record a declaration")
		}
	}
	d.Relation = rel.ID
	doc, _ := json.Marshal(d)
	late := 0
	if d.Late {
		late = 1
	}
	err = s.db.txQueryRow(ctx, tx, insertDeclarationSQL, rel.ID, p, d.Kind, d.DeclaredBy, d.Received.UnixNano(), late, d.Event, string(doc), prior).Scan(&d.ID)
	if err != nil {
		return employment.Declaration{}, mapErr(err, "record a declaration")
	}
	return d, nil
}

// hireTx checks, in tx, that the worker p has no open relation with employer e, and
// appends the hire's event ev (when set), returning its seq. The worker's record is
// locked first (PostgreSQL), so two hires of the same worker sent at once are taken
// once: this is the check (the source makes none before), and it comes before the
// register's verdict on the person, as the source's own check used to.
func (s *employmentStore) hireTx(ctx context.Context, tx *sql.Tx, p, e int64, rel employment.Relation, ev *employment.Mutation) (int64, error) {
	var person population.Person
	var lockErr error
	if ev != nil {
		person, lockErr = (&populationStore{db: s.db}).lockPerson(ctx, tx, p, ev.Type)
		if lockErr != nil && fault.KindOf(lockErr) != fault.NotFound {
			return 0, lockErr
		}
	}
	var one int
	err := s.db.txQueryRow(ctx, tx, openRelationSQL, p, e, employment.Active, int64(rel.Start)).Scan(&one)
	if err == nil {
		return 0, fault.Conflictf("person", "%s already works for %s on %s", rel.Person, rel.Employer, rel.Start)
	}
	if err != sql.ErrNoRows {
		return 0, mapErr(err, "record a declaration")
	}
	if ev == nil {
		return 0, nil
	}
	if lockErr != nil {
		return 0, employment.NotInRegister(ev.Person)
	}
	return s.eventFor(ctx, tx, p, person, *ev)
}

// appendEvent changes the register's person as ev.Apply says and appends ev to the
// built-in sources' event log, in tx: the log is their outbox.
func (s *employmentStore) appendEvent(ctx context.Context, tx *sql.Tx, ev employment.Mutation) (int64, error) {
	n, err := personKey(ev.Person)
	if err != nil {
		return 0, err
	}
	person, err := (&populationStore{db: s.db}).lockPerson(ctx, tx, n, ev.Type)
	if fault.KindOf(err) == fault.NotFound {
		return 0, employment.NotInRegister(ev.Person)
	}
	if err != nil {
		return 0, err
	}
	return s.eventFor(ctx, tx, n, person, ev)
}

// eventFor applies ev to the locked person (number n), writes the person and appends
// ev with the person as it left it.
func (s *employmentStore) eventFor(ctx context.Context, tx *sql.Tx, n int64, person population.Person, ev employment.Mutation) (int64, error) {
	was := person
	if err := ev.Apply(&person); err != nil {
		return 0, err
	}
	person.Number = personString(n)
	after, err := (&populationStore{db: s.db}).writePersonAfter(ctx, tx, was, person) // the person as the change left it
	if err != nil {
		return 0, err
	}
	var seq int64
	err = s.db.txQueryRow(ctx, tx, recordEvent, ev.Type, n, int32(ev.Date), nullText(ev.Data), stamp(s.db.now()).UnixNano(),
		nullText(after)).Scan(&seq)
	return seq, mapErr(err, "record a declaration")
}

func (s *employmentStore) Relation(ctx context.Context, id int64) (employment.Relation, error) {
	rel, err := scanRelation(s.db.r.QueryRowContext(ctx, s.db.q(`SELECT `+relationCols+` FROM emp_relation WHERE id = ?`), id))
	if err == sql.ErrNoRows {
		return rel, fault.NotFoundf("no relation %d", id)
	}
	return rel, mapErr(err, "read a relation")
}

func (s *employmentStore) Relations(ctx context.Context, person string) ([]employment.Relation, error) {
	p, err := personKey(person)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.r.QueryContext(ctx, s.db.q(`SELECT `+relationCols+` FROM emp_relation WHERE person = ? ORDER BY start_date, id`), p)
	if err != nil {
		return nil, mapErr(err, "list relations")
	}
	defer rows.Close()
	out := []employment.Relation{}
	for rows.Next() {
		rel, err := scanRelation(rows)
		if err != nil {
			return nil, mapErr(err, "list relations")
		}
		out = append(out, rel)
	}
	return out, mapErr(rows.Err(), "list relations")
}

func (s *employmentStore) Open(ctx context.Context, person, employer string, day date.Date) (employment.Relation, bool, error) {
	p, err := personKey(person)
	if err != nil {
		return employment.Relation{}, false, err
	}
	e, err := enterpriseKey(employer)
	if err != nil {
		return employment.Relation{}, false, err
	}
	// A relation in force on day, or one starting later that has not ended: a hire
	// declared twice.
	rel, err := scanRelation(s.db.r.QueryRowContext(ctx, s.db.q(`SELECT `+relationCols+` FROM emp_relation
WHERE person = ? AND employer = ? AND status = ? AND end_date >= ? ORDER BY start_date LIMIT 1`), p, e, employment.Active, int64(day)))
	if err == sql.ErrNoRows {
		return employment.Relation{}, false, nil
	}
	if err != nil {
		return employment.Relation{}, false, mapErr(err, "read a relation")
	}
	return rel, true, nil
}

func (s *employmentStore) Declarations(ctx context.Context, person string) ([]employment.Declaration, error) {
	p, err := personKey(person)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.r.QueryContext(ctx, s.db.q(`SELECT id, doc FROM emp_declaration WHERE person = ? ORDER BY id`), p)
	if err != nil {
		return nil, mapErr(err, "list declarations")
	}
	defer rows.Close()
	out := []employment.Declaration{}
	for rows.Next() {
		var doc string
		var id int64
		var d employment.Declaration
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, mapErr(err, "list declarations")
		}
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			return nil, fault.Wrap(err, "read a declaration")
		}
		d.ID = id
		out = append(out, d)
	}
	return out, mapErr(rows.Err(), "list declarations")
}
