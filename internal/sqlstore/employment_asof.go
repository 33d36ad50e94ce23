package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// KnownOn rebuilds what the source knew of a worker at an instant from the history it
// keeps: every declaration holds the relation as it was before it (prior), so the state
// after the last declaration received by then is the prior of the first received later,
// or the relation as it is now; a file's lines count from the file's reception.
func (s *employmentStore) KnownOn(ctx context.Context, person string, at time.Time) ([]employment.Relation, []employment.WageLine, error) {
	p, err := personKey(person)
	if err != nil {
		return nil, nil, err
	}
	t := at.UnixNano()
	rows, err := s.db.r.QueryContext(ctx, s.db.q(`SELECT `+relationCols+`,
 (SELECT COUNT(*) FROM emp_declaration d WHERE d.relation = emp_relation.id),
 (SELECT COUNT(*) FROM emp_declaration d WHERE d.relation = emp_relation.id AND d.received_at <= ?),
 (SELECT d.prior FROM emp_declaration d WHERE d.relation = emp_relation.id AND d.received_at > ? ORDER BY d.id LIMIT 1)
FROM emp_relation WHERE person = ? ORDER BY start_date, id`), t, t, p)
	if err != nil {
		return nil, nil, mapErr(err, "read what was known")
	}
	rels := []employment.Relation{}
	for rows.Next() {
		var rel employment.Relation
		var pp, e, start, end, declared, known int64
		var prior sql.NullString
		err := rows.Scan(&rel.ID, &pp, &e, &rel.Establishment, &start, &end, &rel.Contract, &rel.Fraction, &rel.Sector, &rel.Status, &rel.Version,
			&declared, &known, &prior)
		if err != nil {
			rows.Close()
			return nil, nil, mapErr(err, "read what was known")
		}
		rel.Person, rel.Employer, rel.Start, rel.End = personString(pp), enterpriseString(e), date.Date(start), date.Date(end)
		if declared > 0 && known == 0 {
			continue // hired after at
		}
		if prior.Valid {
			var before employment.Relation
			if err := json.Unmarshal([]byte(prior.String), &before); err != nil {
				rows.Close()
				return nil, nil, fault.Wrap(err, "read a relation's history")
			}
			rel = before
		}
		rels = append(rels, rel)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, mapErr(err, "read what was known")
	}
	lines, err := s.linesKnown(ctx, p, t)
	return rels, lines, err
}

// linesKnown lists the lines of the files received by t, the latest file's in force for
// each quarter and employer.
func (s *employmentStore) linesKnown(ctx context.Context, p, t int64) ([]employment.WageLine, error) {
	rows, err := s.db.r.QueryContext(ctx, s.db.q(`SELECT w.quarter, w.employer, w.file, w.line, w.wages, w.bonus, w.days, w.hours, w.fraction, w.contribution, f.declared_by
FROM emp_wage w JOIN emp_file f ON f.id = w.file WHERE w.person = ? AND f.received_at <= ? ORDER BY w.quarter, w.employer, w.file`), p, t)
	if err != nil {
		return nil, mapErr(err, "read what was known")
	}
	defer rows.Close()
	out := []employment.WageLine{}
	for rows.Next() {
		w := employment.WageLine{Person: personString(p), PersonKey: p}
		var q int64
		if err := rows.Scan(&q, &w.EmployerKey, &w.File, &w.Line, &w.Wages, &w.Bonus, &w.Days, &w.Hours, &w.Fraction, &w.Contribution, &w.DeclaredBy); err != nil {
			return nil, mapErr(err, "read what was known")
		}
		w.Quarter, w.Employer = employment.Quarter(q), enterpriseString(w.EmployerKey)
		if n := len(out); n > 0 && out[n-1].Quarter == w.Quarter && out[n-1].EmployerKey == w.EmployerKey {
			out[n-1].Replaced = true // files by id: a later one replaced it
		}
		out = append(out, w)
	}
	return out, mapErr(rows.Err(), "read what was known")
}
