package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/population"
)

const (
	insertEvent = `INSERT INTO event (type, person, event_date, data, recorded_at) VALUES (?, ?, ?, ?, ?) RETURNING seq`
	insertSeq   = `INSERT INTO event (seq, type, person, event_date, data, recorded_at) VALUES (?, ?, ?, ?, ?, ?)`
	// An explicit seq does not move a PostgreSQL identity; this moves it past the largest.
	resetSeq = `SELECT setval(pg_get_serial_sequence('event', 'seq'), (SELECT max(seq) FROM event))`
)

// PutEvents appends events in one transaction; it does not change persons.
func (s *populationStore) PutEvents(ctx context.Context, evs []population.Event) error {
	tx, err := s.db.begin(ctx, "put events")
	if err != nil {
		return err
	}
	defer tx.Rollback()
	explicit := false
	for i, ev := range evs {
		if err := s.putEvent(ctx, tx, ev); err != nil {
			return fault.In("events["+strconv.Itoa(i)+"]", err)
		}
		explicit = explicit || ev.Seq != 0
	}
	if explicit && s.db.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, resetSeq); err != nil {
			return mapErr(err, "put events")
		}
	}
	return commit(tx, "put events")
}

// putEvent appends one event; the store assigns Seq and RecordedAt when zero.
func (s *populationStore) putEvent(ctx context.Context, tx *sql.Tx, ev population.Event) error {
	p, err := personKey(ev.Person)
	if err != nil {
		return err
	}
	args := []any{ev.Type, p, int32(ev.Date), nullText(ev.Data), s.recordedAt(ev).UnixNano()}
	query := insertEvent
	if ev.Seq != 0 {
		query, args = insertSeq, append([]any{ev.Seq}, args...)
	}
	st, err := s.db.txStmt(ctx, tx, query)
	if err != nil {
		return mapErr(err, "put events")
	}
	_, err = st.ExecContext(ctx, args...)
	return mapErr(err, "put events")
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
	ev.Person, ev.RecordedAt = personString(n), s.recordedAt(ev)
	tx, err := s.db.begin(ctx, "record event")
	if err != nil {
		return population.Event{}, err
	}
	defer tx.Rollback()
	p, err := s.lockPerson(ctx, tx, n, ev.Type)
	if err != nil {
		return population.Event{}, err
	}
	if err := apply(&p); err != nil {
		return population.Event{}, err
	}
	p.Number = ev.Person // the event is about this person, whatever apply did
	if err := s.writePerson(ctx, tx, p); err != nil {
		return population.Event{}, err
	}
	q := s.db.q(insertEvent)
	err = tx.QueryRowContext(ctx, q, ev.Type, n, int32(ev.Date), nullText(ev.Data), ev.RecordedAt.UnixNano()).Scan(&ev.Seq)
	if err != nil {
		return population.Event{}, mapErr(err, "record event")
	}
	return ev, commit(tx, "record event")
}

// lockPerson reads the person an event is about, locking the row on PostgreSQL.
func (s *populationStore) lockPerson(ctx context.Context, tx *sql.Tx, n int64, evType string) (population.Person, error) {
	q := s.db.q(`SELECT doc FROM person WHERE number = ?` + s.db.forUpdate())
	p, err := scanPerson(tx.QueryRowContext(ctx, q, n), "person "+personString(n)+" not found")
	if fault.KindOf(err) == fault.NotFound && evType == population.EventBirth {
		return population.Person{Number: personString(n)}, nil
	}
	return p, err
}

func (s *populationStore) writePerson(ctx context.Context, tx *sql.Tx, p population.Person) error {
	r, err := toRow(p)
	if err != nil {
		return err
	}
	st, err := s.db.txStmt(ctx, tx, upsertPerson)
	if err != nil {
		return mapErr(err, "record event")
	}
	return s.putPerson(ctx, st, r)
}

// Events lists the events of a person in sequence order.
func (s *populationStore) Events(ctx context.Context, person string) ([]population.Event, error) {
	n, err := personKey(person)
	if err != nil {
		return nil, err
	}
	q := `SELECT seq, type, event_date, data, recorded_at FROM event WHERE person = ? ORDER BY seq`
	rows, err := s.db.r.QueryContext(ctx, s.db.q(q), n)
	if err != nil {
		return nil, mapErr(err, "list events")
	}
	defer rows.Close()
	out := []population.Event{}
	for rows.Next() {
		ev := population.Event{Person: personString(n)}
		var day int32
		var at int64
		if err := rows.Scan(&ev.Seq, &ev.Type, &day, &ev.Data, &at); err != nil {
			return nil, mapErr(err, "list events")
		}
		ev.Date, ev.RecordedAt = date.Date(day), time.Unix(0, at).UTC()
		out = append(out, ev)
	}
	return out, mapErr(rows.Err(), "list events")
}

