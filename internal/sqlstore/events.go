package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/population"
)

const (
	insertEvent = `INSERT INTO event (type, person, event_date, data, recorded_at) VALUES (?, ?, ?, ?, ?) RETURNING seq`
	// recordEvent appends the event of a change with the person as it left it.
	recordEvent = `INSERT INTO event (type, person, event_date, data, recorded_at, person_after) VALUES (?, ?, ?, ?, ?, ?) RETURNING seq`
	// lockPersonSQL reads the person an event is about (FOR UPDATE added on PostgreSQL).
	lockPersonSQL = `SELECT doc FROM person WHERE number = ?`
	insertSeq     = `INSERT INTO event (seq, type, person, event_date, data, recorded_at) VALUES (?, ?, ?, ?, ?, ?)`
	bulkEvents    = `INSERT INTO event (seq, type, person, event_date, data, recorded_at)
SELECT CASE WHEN u.s = 0 THEN nextval(pg_get_serial_sequence('event', 'seq')) ELSE u.s END,
  u.t, u.p, u.d, NULLIF(u.x, '')::json, u.a
FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::int[], $5::text[], $6::bigint[])
  WITH ORDINALITY AS u(s, t, p, d, x, a, n) ORDER BY u.n`
	// An explicit seq does not move a PostgreSQL identity; this moves it past the largest.
	resetSeq = `SELECT setval(pg_get_serial_sequence('event', 'seq'), (SELECT max(seq) FROM event))`
)

// eventRow is an event as its columns.
type eventRow struct {
	seq, person, at int64
	typ, data       string
	day             int32
}

func (s *populationStore) eventRows(evs []population.Event) ([]eventRow, error) {
	rows := make([]eventRow, len(evs))
	for i, ev := range evs {
		p, err := personKey(ev.Person)
		if err != nil {
			return nil, fault.In("events["+strconv.Itoa(i)+"]", err)
		}
		rows[i] = eventRow{ev.Seq, p, s.recordedAt(ev).UnixNano(), ev.Type, string(ev.Data), int32(ev.Date)}
	}
	return rows, nil
}

// PutEvents appends events in one transaction; it does not change persons. The store
// assigns Seq and RecordedAt when zero.
func (s *populationStore) PutEvents(ctx context.Context, evs []population.Event) error {
	rows, err := s.eventRows(evs)
	if err != nil {
		return err
	}
	tx, err := s.db.begin(ctx, "put events")
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.db.dialect == Postgres {
		err = s.putEventsBulk(ctx, tx, rows)
	} else {
		err = s.putEventsEach(ctx, tx, rows)
	}
	if err != nil {
		return err
	}
	return commit(tx, "put events")
}

// eventsPerInsert is how many events one multi-row INSERT carries: SQLite's cost is
// mostly per statement, so a bulk load of millions of events goes several times faster.
const eventsPerInsert = 64

var insertEvents = `INSERT INTO event (type, person, event_date, data, recorded_at) VALUES (?, ?, ?, ?, ?)` +
	strings.Repeat(`, (?, ?, ?, ?, ?)`, eventsPerInsert-1)

func (s *populationStore) putEventsEach(ctx context.Context, tx *sql.Tx, rows []eventRow) error {
	auto, err := s.db.txStmt(ctx, tx, insertEvent)
	if err != nil {
		return mapErr(err, "put events")
	}
	defer auto.Close()
	rows, err = s.putEventsMulti(ctx, tx, rows)
	if err != nil {
		return err
	}
	for _, r := range rows {
		args := []any{r.typ, r.person, r.day, nullText([]byte(r.data)), r.at}
		if r.seq != 0 {
			_, err = tx.ExecContext(ctx, insertSeq, append([]any{r.seq}, args...)...)
		} else {
			_, err = auto.ExecContext(ctx, args...)
		}
		if err != nil {
			return mapErr(err, "put events")
		}
	}
	return nil
}

// putEventsMulti inserts the leading runs of eventsPerInsert events that need no given
// seq with one statement each, and returns the rest for the row-by-row path.
func (s *populationStore) putEventsMulti(ctx context.Context, tx *sql.Tx, rows []eventRow) ([]eventRow, error) {
	var multi *sql.Stmt
	args := make([]any, 0, 5*eventsPerInsert)
	for len(rows) >= eventsPerInsert {
		chunk := rows[:eventsPerInsert]
		args = args[:0]
		for _, r := range chunk {
			if r.seq != 0 {
				return rows, nil
			}
			args = append(args, r.typ, r.person, r.day, nullText([]byte(r.data)), r.at)
		}
		if multi == nil {
			var err error
			if multi, err = tx.PrepareContext(ctx, insertEvents); err != nil {
				return nil, mapErr(err, "put events")
			}
			defer multi.Close()
		}
		if _, err := multi.ExecContext(ctx, args...); err != nil {
			return nil, mapErr(err, "put events")
		}
		rows = rows[eventsPerInsert:]
	}
	return rows, nil
}

func (s *populationStore) putEventsBulk(ctx context.Context, tx *sql.Tx, rows []eventRow) error {
	n := len(rows)
	seqs, persons, ats := make([]int64, n), make([]int64, n), make([]int64, n)
	types, datas, days := make([]string, n), make([]string, n), make([]int32, n)
	explicit := false
	for i, r := range rows {
		seqs[i], persons[i], ats[i], types[i], datas[i], days[i] = r.seq, r.person, r.at, r.typ, r.data, r.day
		explicit = explicit || r.seq != 0
	}
	if _, err := tx.ExecContext(ctx, bulkEvents, seqs, types, persons, days, datas, ats); err != nil {
		return mapErr(err, "put events")
	}
	if explicit {
		_, err := tx.ExecContext(ctx, resetSeq)
		return mapErr(err, "put events")
	}
	return nil
}

func (s *populationStore) recordedAt(ev population.Event) time.Time {
	if ev.RecordedAt.IsZero() {
		return stamp(s.db.now())
	}
	return stamp(ev.RecordedAt)
}

// Record applies ev to its person with apply and appends ev, in one transaction. A birth
// may name a person not yet registered: apply then starts from an empty person.
func (s *populationStore) Record(ctx context.Context, ev population.Event, apply func(*population.Person) error) (population.Event, error) {
	n, err := personKey(ev.Person)
	if err != nil {
		return population.Event{}, err
	}
	return s.record(ctx, ev, []int64{n}, func(ps []*population.Person) error { return apply(ps[0]) })
}

// RecordCouple applies an event to its person and another, and appends it, in one
// transaction.
func (s *populationStore) RecordCouple(ctx context.Context, ev population.Event, other string, apply func(p, other *population.Person) error) (population.Event, error) {
	n, err := personKey(ev.Person)
	if err != nil {
		return population.Event{}, err
	}
	o, err := personKey(other)
	if err != nil {
		return population.Event{}, err
	}
	if n == o {
		return population.Event{}, fault.Invalidf("spouse", "is the person itself")
	}
	return s.record(ctx, ev, []int64{n, o}, func(ps []*population.Person) error { return apply(ps[0], ps[1]) })
}

// record locks the persons keys (in number order, so that two records never wait on each
// other in a circle), lets apply change them, writes them and appends ev, about the
// first, with the first as changed, in one transaction.
func (s *populationStore) record(ctx context.Context, ev population.Event, keys []int64, apply func([]*population.Person) error) (population.Event, error) {
	ev.Person, ev.RecordedAt = personString(keys[0]), s.recordedAt(ev)
	tx, err := s.db.begin(ctx, "record event")
	if err != nil {
		return population.Event{}, err
	}
	defer tx.Rollback()
	ps := make([]*population.Person, len(keys))
	for _, k := range slices.Sorted(slices.Values(keys)) {
		p, err := s.lockPerson(ctx, tx, k, ev.Type)
		if err != nil {
			return population.Event{}, err
		}
		ps[slices.Index(keys, k)] = &p
	}
	if err := apply(ps); err != nil {
		return population.Event{}, err
	}
	var after []byte // the event's person as the change left it
	for i, p := range ps {
		p.Number = personString(keys[i]) // the event is about these persons, whatever apply did
		doc, err := s.writePerson(ctx, tx, *p)
		if err != nil {
			return population.Event{}, err
		}
		if i == 0 {
			after = doc
		}
	}
	err = tx.QueryRowContext(ctx, s.db.q(recordEvent), ev.Type, keys[0], int32(ev.Date), nullText(ev.Data), ev.RecordedAt.UnixNano(),
		nullText(after)).Scan(&ev.Seq)
	if err != nil {
		return population.Event{}, mapErr(err, "record event")
	}
	return ev, commit(tx, "record event")
}

// lockPerson reads the person an event is about, locking the row on PostgreSQL.
func (s *populationStore) lockPerson(ctx context.Context, tx *sql.Tx, n int64, evType string) (population.Person, error) {
	p, err := scanPerson(s.db.txQueryRow(ctx, tx, lockPersonSQL+s.db.forUpdate(), n), "person "+personString(n)+" not found")
	if fault.KindOf(err) == fault.NotFound && evType == population.EventBirth {
		return population.Person{Number: personString(n)}, nil
	}
	return p, err
}

// writePerson writes p and returns its record as stored (the person's doc). Every change
// of a person writes it through here (record, the employment source's appendEvent) or
// PutPersons: the person's pending incomes are given the record as it was first.
func (s *populationStore) writePerson(ctx context.Context, tx *sql.Tx, p population.Person) ([]byte, error) {
	r, err := toRow(p)
	if err != nil {
		return nil, err
	}
	if err := freezePending(ctx, s.db, tx, r.number); err != nil {
		return nil, err
	}
	st, err := s.db.txStmt(ctx, tx, upsertPerson)
	if err != nil {
		return nil, mapErr(err, "record event")
	}
	return r.doc, s.putPerson(ctx, st, r)
}

// updatePersonDoc rewrites a person's record alone.
const updatePersonDoc = `UPDATE person SET doc = ? WHERE number = ?`

// writePersonAfter writes p, changed from was, and returns its record as stored (the
// person's pending incomes given the record as it was first, as writePerson does). When
// the change leaves the columns kept for the indexes as they were (a count of registry
// changes raised), only the record is rewritten: the person's index entries are not
// deleted and inserted again, pages the commit would otherwise write to the WAL.
func (s *populationStore) writePersonAfter(ctx context.Context, tx *sql.Tx, was, p population.Person) ([]byte, error) {
	if was.BRN != p.BRN || was.Address.Municipality != p.Address.Municipality || was.Household != p.Household ||
		was.BirthDate != p.BirthDate || was.DeathDate != p.DeathDate {
		return s.writePerson(ctx, tx, p)
	}
	r, err := toRow(p)
	if err != nil {
		return nil, err
	}
	if err := freezePending(ctx, s.db, tx, r.number); err != nil { // as writePerson
		return nil, err
	}
	res, err := s.db.txExec(ctx, tx, updatePersonDoc, string(r.doc), r.number)
	if err != nil {
		return nil, mapErr(err, "record event")
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 { // not there: written whole
		return s.writePerson(ctx, tx, p)
	}
	return r.doc, nil
}

// LastEventSeq returns the seq of the last event.
func (s *populationStore) LastEventSeq(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.r.QueryRowContext(ctx, `SELECT COALESCE((SELECT MAX(seq) FROM event), 0)`).Scan(&n)
	return n, mapErr(err, "read the event log's end")
}

// EventsAfter reads the event log from after on, each event with the person as it left
// it when the event has it.
func (s *populationStore) EventsAfter(ctx context.Context, after int64, limit int) ([]population.Event, error) {
	if limit <= 0 {
		return []population.Event{}, nil
	}
	// An income event of a quarterly file on SQLite keeps no copy of the person (see
	// pendingIncome): the person as it is now is the one it left, read in the same
	// statement, so in the same snapshot as the event.
	q := `SELECT seq, person, type, event_date, data, recorded_at,
  COALESCE(person_after, CASE WHEN type = '` + pendingType + `' THEN (SELECT doc FROM person WHERE number = event.person) END)
FROM event WHERE seq > ? ORDER BY seq LIMIT ?`
	rows, err := s.db.r.QueryContext(ctx, s.db.q(q), after, limit)
	if err != nil {
		return nil, mapErr(err, "list events")
	}
	defer rows.Close()
	out := []population.Event{}
	for rows.Next() {
		var ev population.Event
		var person, day, at int64
		var after []byte
		if err := rows.Scan(&ev.Seq, &person, &ev.Type, &day, (*[]byte)(&ev.Data), &at, &after); err != nil {
			return nil, mapErr(err, "list events")
		}
		ev.Person, ev.Date, ev.RecordedAt = personString(person), date.Date(day), time.Unix(0, at).UTC()
		if after != nil {
			ev.After = new(population.Person)
			if err := json.Unmarshal(after, ev.After); err != nil {
				return nil, fault.Wrap(err, "decode the person after event "+strconv.FormatInt(ev.Seq, 10))
			}
		}
		out = append(out, ev)
	}
	return out, mapErr(rows.Err(), "list events")
}

// Events lists the events of the persons in sequence order.
func (s *populationStore) Events(ctx context.Context, persons ...string) ([]population.Event, error) {
	if len(persons) == 0 || len(persons) > population.MaxEventPersons {
		return nil, fault.Invalidf("persons", "from 1 to %d persons, not %d", population.MaxEventPersons, len(persons))
	}
	keys := make([]any, len(persons))
	for i, p := range persons {
		n, err := personKey(p)
		if err != nil {
			return nil, err
		}
		keys[i] = n
	}
	// Prepared statements, one per number of persons: the derived registries read the
	// events of a household on every look-up.
	q := `SELECT seq, person, type, event_date, data, recorded_at FROM event WHERE person IN (?` + strings.Repeat(`, ?`, len(keys)-1) + `) ORDER BY seq`
	st, err := s.db.stmt(ctx, s.db.r, q)
	if err != nil {
		return nil, mapErr(err, "list events")
	}
	rows, err := st.QueryContext(ctx, keys...)
	if err != nil {
		return nil, mapErr(err, "list events")
	}
	defer rows.Close()
	out := []population.Event{}
	for rows.Next() {
		var ev population.Event
		var n, day, at int64
		if err := rows.Scan(&ev.Seq, &n, &ev.Type, &day, (*[]byte)(&ev.Data), &at); err != nil {
			return nil, mapErr(err, "list events")
		}
		ev.Person, ev.Date, ev.RecordedAt = personString(n), date.Date(day), time.Unix(0, at).UTC()
		out = append(out, ev)
	}
	return out, mapErr(rows.Err(), "list events")
}
