package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// populationStore is the population.Store and ident.Ledger of a DB.
type populationStore struct{ db *DB }

const (
	upsertPerson = `INSERT INTO person (number, brn, municipality, birth_date, death_date, household, doc)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (number) DO UPDATE SET brn = excluded.brn, municipality = excluded.municipality,
  birth_date = excluded.birth_date, death_date = excluded.death_date, household = excluded.household, doc = excluded.doc`
	bulkPersons = `INSERT INTO person (number, brn, municipality, birth_date, death_date, household, doc)
SELECT n, NULLIF(b, ''), m, bd, dd, h, d::json
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::int[], $6::text[], $7::text[]) AS t(n, b, m, bd, dd, h, d)
ON CONFLICT (number) DO UPDATE SET brn = excluded.brn, municipality = excluded.municipality,
  birth_date = excluded.birth_date, death_date = excluded.death_date, household = excluded.household, doc = excluded.doc`
)

// personRow is a person as its columns.
type personRow struct {
	number                   int64
	brn, municipality, house string
	birth, death             int32
	doc                      []byte
}

// toRow normalises the person number and encodes the person.
func toRow(p population.Person) (personRow, error) {
	n, err := personKey(p.Number)
	if err != nil {
		return personRow{}, err
	}
	p.Number = personString(n)
	doc, err := json.Marshal(p)
	if err != nil {
		return personRow{}, fault.Wrap(err, "encode person")
	}
	return personRow{n, p.BRN, p.Address.Municipality, p.Household, int32(p.BirthDate), int32(p.DeathDate), doc}, nil
}

// PutPersons inserts or replaces persons in one transaction.
func (s *populationStore) PutPersons(ctx context.Context, ps []population.Person) error {
	rows := make([]personRow, len(ps))
	for i, p := range ps {
		r, err := toRow(p)
		if err != nil {
			return fault.In("persons["+strconv.Itoa(i)+"]", err)
		}
		rows[i] = r
	}
	tx, err := s.db.begin(ctx, "put persons")
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.db.dialect == Postgres {
		err = s.putPersonsBulk(ctx, tx, rows)
	} else {
		err = s.putPersonsEach(ctx, tx, rows)
	}
	if err != nil {
		return err
	}
	return commit(tx, "put persons")
}

// personsPerInsert is how many persons one multi-row upsert carries on SQLite.
const personsPerInsert = 32

var upsertPersons = strings.Replace(upsertPerson, "VALUES (?, ?, ?, ?, ?, ?, ?)",
	"VALUES (?, ?, ?, ?, ?, ?, ?)"+strings.Repeat(", (?, ?, ?, ?, ?, ?, ?)", personsPerInsert-1), 1)

func (s *populationStore) putPersonsEach(ctx context.Context, tx *sql.Tx, rows []personRow) error {
	st, err := s.db.txStmt(ctx, tx, upsertPerson)
	if err != nil {
		return mapErr(err, "put persons")
	}
	defer st.Close()
	if rows, err = s.putPersonsMulti(ctx, tx, rows); err != nil {
		return err
	}
	for _, r := range rows {
		if err := freezePendingMany(ctx, s.db, tx, []any{r.number}); err != nil {
			return err
		}
		if err := s.putPerson(ctx, st, r); err != nil {
			return err
		}
	}
	return nil
}

// putPersonsMulti upserts runs of personsPerInsert persons with one statement each. A
// run that breaks a constraint (a BRN used twice, a number repeated in the run) is left,
// with the rest, to the row-by-row path, which names the offending row.
func (s *populationStore) putPersonsMulti(ctx context.Context, tx *sql.Tx, rows []personRow) ([]personRow, error) {
	if len(rows) < personsPerInsert {
		return rows, nil
	}
	multi, err := tx.PrepareContext(ctx, upsertPersons)
	if err != nil {
		return nil, mapErr(err, "put persons")
	}
	defer multi.Close()
	args := make([]any, 0, 7*personsPerInsert)
	keys := make([]any, personsPerInsert)
	for len(rows) >= personsPerInsert {
		args = args[:0]
		for i, r := range rows[:personsPerInsert] {
			keys[i] = r.number
		}
		if err := freezePendingMany(ctx, s.db, tx, keys); err != nil {
			return nil, err
		}
		for _, r := range rows[:personsPerInsert] {
			var brn any
			if r.brn != "" {
				brn = r.brn
			}
			args = append(args, r.number, brn, r.municipality, r.birth, r.death, r.house, string(r.doc))
		}
		if _, err := multi.ExecContext(ctx, args...); err != nil {
			if isUnique(err) {
				return rows, nil
			}
			return nil, mapErr(err, "put persons")
		}
		rows = rows[personsPerInsert:]
	}
	return rows, nil
}

func (s *populationStore) putPerson(ctx context.Context, st *sql.Stmt, r personRow) error {
	var brn any
	if r.brn != "" {
		brn = r.brn
	}
	_, err := st.ExecContext(ctx, r.number, brn, r.municipality, r.birth, r.death, r.house, string(r.doc))
	return mapErr(err, "put persons")
}

// putPersonsBulk sends the rows as arrays, keeping the last of repeated numbers (one
// statement may not update a row twice).
func (s *populationStore) putPersonsBulk(ctx context.Context, tx *sql.Tx, rows []personRow) error {
	last := make(map[int64]int, len(rows))
	for i, r := range rows {
		last[r.number] = i
	}
	var ns []int64
	var brns, munis, houses, docs []string
	var births, deaths []int32
	for i, r := range rows {
		if last[r.number] != i {
			continue
		}
		ns, brns, munis, houses = append(ns, r.number), append(brns, r.brn), append(munis, r.municipality), append(houses, r.house)
		births, deaths, docs = append(births, r.birth), append(deaths, r.death), append(docs, string(r.doc))
	}
	_, err := tx.ExecContext(ctx, bulkPersons, ns, brns, munis, births, deaths, houses, docs)
	return mapErr(err, "put persons")
}

// Person returns one person by number.
func (s *populationStore) Person(ctx context.Context, number string) (population.Person, error) {
	n, err := personKey(number)
	if err != nil {
		return population.Person{}, err
	}
	st, err := s.db.stmt(ctx, s.db.r, `SELECT doc FROM person WHERE number = ?`)
	if err != nil {
		return population.Person{}, mapErr(err, "get person")
	}
	return scanPerson(st.QueryRowContext(ctx, n), "person "+personString(n)+" not found")
}

// Household lists the persons of household id, in number order, at most limit (the
// dead too): one prepared query, where a search by filter would count the matches and
// read them with two statements parsed each time (derived's household, for each
// change routed to a social or beneficiary registry).
func (s *populationStore) Household(ctx context.Context, id string, limit int) ([]population.Person, error) {
	st, err := s.db.stmt(ctx, s.db.r, `SELECT doc FROM person WHERE household = ? ORDER BY number LIMIT ?`)
	if err != nil {
		return nil, mapErr(err, "read a household")
	}
	rows, err := st.QueryContext(ctx, id, limit)
	if err != nil {
		return nil, mapErr(err, "read a household")
	}
	defer rows.Close()
	out := []population.Person{}
	err = eachPerson(rows, func(p population.Person) error { out = append(out, p); return nil })
	return out, err
}

// PersonByBRN returns one person by birth registration number.
func (s *populationStore) PersonByBRN(ctx context.Context, brn string) (population.Person, error) {
	q := s.db.q(`SELECT doc FROM person WHERE brn = ?`)
	return scanPerson(s.db.r.QueryRowContext(ctx, q, brn), "no person with birth registration number "+strconv.Quote(clip(brn)))
}

func scanPerson(row scanner, notFound string) (population.Person, error) {
	var doc []byte
	err := row.Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return population.Person{}, fault.NotFoundf("%s", notFound)
	}
	if err != nil {
		return population.Person{}, mapErr(err, "get person")
	}
	var p population.Person
	return p, fault.Wrap(population.DecodePerson(doc, &p), "decode person")
}

// Persons lists persons in number order.
func (s *populationStore) Persons(ctx context.Context, q population.Query) ([]population.Person, error) {
	after := int64(-1)
	if q.After != "" {
		n, err := personKey(q.After)
		if err != nil {
			return nil, fault.Invalidf("after", "%q is not a person number", clip(q.After))
		}
		after = n
	}
	query, args := `SELECT doc FROM person WHERE number > ?`, []any{after}
	if q.Municipality != "" {
		query, args = query+` AND municipality = ?`, append(args, q.Municipality)
	}
	query, args = query+` ORDER BY number LIMIT ?`, append(args, limit(q.Limit))
	rows, err := s.db.r.QueryContext(ctx, s.db.q(query), args...)
	if err != nil {
		return nil, mapErr(err, "list persons")
	}
	defer rows.Close()
	out := []population.Person{}
	for rows.Next() {
		p, err := scanPerson(rows, "")
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, mapErr(rows.Err(), "list persons")
}

// Count returns the number of persons and of deceased persons.
func (s *populationStore) Count(ctx context.Context) (persons, deceased int, err error) {
	q := `SELECT count(*), coalesce(sum(CASE WHEN death_date > 0 THEN 1 ELSE 0 END), 0) FROM person`
	err = s.db.r.QueryRowContext(ctx, q).Scan(&persons, &deceased)
	return persons, deceased, mapErr(err, "count persons")
}

// deferredIndexes are the register's secondary indexes that a bulk load builds at its
// end, as the migrations define them.
var deferredIndexes = []struct{ name, on string }{
	{"person_municipality", "person (municipality, number)"},
	{"person_household", "person (household)"},
	{"person_municipality_birth", "person (municipality, birth_date)"},
	{"event_person", "event (person, seq)"},
}

// briefIndex is SQLite's covering index of the briefs a national read takes (civil
// migration 4; the sex and the count are generated columns there), deferred too.
var briefIndex = struct{ name, on string }{"person_brief", "person (number, municipality, birth_date, death_date, household, sex, registry_changes)"}

// deferred lists the secondary indexes a bulk load builds at its end on db.
func (db *DB) deferred() []struct{ name, on string } {
	if db.dialect == Postgres {
		return deferredIndexes
	}
	return append(slices.Clip(deferredIndexes), briefIndex)
}

// BulkLoad prepares an empty register for a bulk load (synth): its secondary indexes are
// dropped, and finish builds them once, from sorted data, which costs less than keeping
// them current on every insert (measured: a million persons in about 40 s instead of
// 48–55). On a register that holds persons it changes nothing. A load that stops before
// finish leaves the indexes missing until the next Open, which builds any that is.
func (s *populationStore) BulkLoad(ctx context.Context) (finish func(context.Context) error, err error) {
	var any int
	err = s.db.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM person LIMIT 1) AS t`).Scan(&any)
	if err != nil {
		return nil, mapErr(err, "prepare a bulk load")
	}
	if any > 0 {
		return func(context.Context) error { return nil }, nil
	}
	for _, ix := range s.db.deferred() {
		if _, err := s.db.w.ExecContext(ctx, "DROP INDEX IF EXISTS "+ix.name); err != nil {
			return nil, mapErr(err, "prepare a bulk load")
		}
	}
	return s.db.ensureIndexes, nil
}

// ensureIndexes builds the register's secondary indexes that are missing.
func (db *DB) ensureIndexes(ctx context.Context) error {
	for _, ix := range db.deferred() {
		if _, err := db.w.ExecContext(ctx, "CREATE INDEX IF NOT EXISTS "+ix.name+" ON "+ix.on); err != nil {
			return mapErr(err, "build index "+ix.name)
		}
	}
	return nil
}
