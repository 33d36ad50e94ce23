package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
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
	var rows *sql.Rows
	var err error
	const order = ` ORDER BY person, right_id, id`
	if s.db.dialect == Postgres {
		rows, err = s.db.r.QueryContext(ctx, `SELECT `+decisionCols+` FROM rights_decision WHERE person = ANY($1)`+order, keys)
	} else {
		args := make([]any, len(keys))
		for i, k := range keys {
			args[i] = k
		}
		rows, err = s.db.r.QueryContext(ctx, `SELECT `+decisionCols+` FROM rights_decision WHERE person IN (?`+strings.Repeat(",?", len(keys)-1)+`)`+order, args...)
	}
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

// Save appends the decisions in one transaction, many rows a statement.
func (s *rightsStore) Save(ctx context.Context, ds []rights.Decision, mark rights.Mark) error {
	if len(ds) == 0 && mark.Job == "" {
		return nil
	}
	tx, err := s.db.begin(ctx, "save decisions")
	if err != nil {
		return err
	}
	defer tx.Rollback()
	args := make([]any, 0, 11*decisionsPerInsert)
	for start := 0; start < len(ds); start += decisionsPerInsert {
		chunk := ds[start:min(len(ds), start+decisionsPerInsert)]
		args = args[:0]
		for _, d := range chunk {
			p, err := personKey(d.Person)
			if err != nil {
				return err
			}
			facts, err := json.Marshal(d.Facts)
			if err != nil {
				return fault.Wrap(err, "encode a decision's facts")
			}
			args = append(args, p, d.Right, d.Version, d.Result, int64(d.Effective), d.Decided, d.Institution,
				d.Group.Region, d.Group.AgeBand, d.Group.HouseholdType, string(facts))
		}
		q := s.db.q(insertDecision + decisionRow + strings.Repeat(", "+decisionRow, len(chunk)-1) + ` RETURNING id`)
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return mapErr(err, "save decisions")
		}
		i := 0
		for rows.Next() {
			if i < len(chunk) {
				if err := rows.Scan(&chunk[i].ID); err != nil {
					rows.Close()
					return mapErr(err, "save decisions")
				}
			}
			i++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapErr(err, "save decisions")
		}
	}
	if err := s.events(ctx, tx, ds); err != nil {
		return err
	}
	if mark.Job != "" {
		if _, err := tx.ExecContext(ctx, s.db.q(upsertProgress), mark.Job, mark.Last); err != nil {
			return mapErr(err, "save progress")
		}
	}
	return commit(tx, "save decisions")
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
func (s *rightsStore) events(ctx context.Context, tx *sql.Tx, ds []rights.Decision) error {
	at := stamp(s.db.now()).UnixNano()
	args := make([]any, 0, 5*decisionsPerInsert)
	for start := 0; start < len(ds); start += decisionsPerInsert {
		chunk := ds[start:min(len(ds), start+decisionsPerInsert)]
		args = args[:0]
		for _, d := range chunk {
			p, _ := personKey(d.Person) // checked when the decisions were written
			data, err := json.Marshal(struct {
				ID          int64         `json:"decision"`
				Right       string        `json:"right"`
				Version     int           `json:"version"`
				Result      string        `json:"result"`
				Effective   date.Date     `json:"effective"`
				Institution string        `json:"institution"`
				Facts       []rights.Fact `json:"facts"`
			}{d.ID, d.Right, d.Version, d.Result, d.Effective, d.Institution, d.Facts})
			if err != nil {
				return fault.Wrap(err, "encode a decision's event")
			}
			args = append(args, rights.EventType, p, int32(d.Effective), string(data), at)
		}
		q := s.db.q(insertRightEvent + rightEventRow + strings.Repeat(", "+rightEventRow, len(chunk)-1))
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return mapErr(err, "record decisions' events")
		}
	}
	return nil
}
