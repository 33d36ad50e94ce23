package sqlstore

import (
	"context"
	"time"

	"github.com/crossroads-hub/crossroads/internal/benefits"
	"github.com/crossroads-hub/crossroads/internal/date"
)

// Benefits returns the store of the benefits granting bodies report; the rights schema
// must have been opened (the reports sit beside the decisions they rest on).
func (db *DB) Benefits() benefits.Store { return &benefitStore{db: db} }

type benefitStore struct{ db *DB }

const benefitCols = `id, institution, reference, version, action, person, right_id, benefit, from_date, until_date, client, recorded_at`

func (s *benefitStore) Append(ctx context.Context, r benefits.Report) (benefits.Report, error) {
	p, err := personKey(r.Person)
	if err != nil {
		return benefits.Report{}, err
	}
	err = s.db.w.QueryRowContext(ctx, s.db.q(`INSERT INTO benefit_report (institution, reference, version, action, person, right_id, benefit,
from_date, until_date, client, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		r.Institution, r.Reference, r.Version, r.Action, p, r.Right, r.Benefit, int64(r.From), int64(r.Until), r.Client, r.Recorded.UnixNano()).Scan(&r.ID)
	if err != nil {
		return benefits.Report{}, mapErr(err, "save a benefit's report")
	}
	return r, nil
}

func (s *benefitStore) Versions(ctx context.Context, institution, reference string) ([]benefits.Report, error) {
	return s.list(ctx, `SELECT `+benefitCols+` FROM benefit_report WHERE institution = ? AND reference = ? ORDER BY version`, institution, reference)
}

func (s *benefitStore) ByPerson(ctx context.Context, person string) ([]benefits.Report, error) {
	p, err := personKey(person)
	if err != nil {
		return nil, err
	}
	return s.list(ctx, `SELECT `+benefitCols+` FROM benefit_report WHERE person = ? ORDER BY id`, p)
}

func (s *benefitStore) list(ctx context.Context, query string, args ...any) ([]benefits.Report, error) {
	rows, err := s.db.r.QueryContext(ctx, s.db.q(query), args...)
	if err != nil {
		return nil, mapErr(err, "read benefits' reports")
	}
	defer rows.Close()
	var out []benefits.Report
	for rows.Next() {
		var r benefits.Report
		var p, from, until, at int64
		if err := rows.Scan(&r.ID, &r.Institution, &r.Reference, &r.Version, &r.Action, &p, &r.Right, &r.Benefit, &from, &until, &r.Client, &at); err != nil {
			return nil, mapErr(err, "read benefits' reports")
		}
		r.Person, r.From, r.Until, r.Recorded = personString(p), date.Date(from), date.Date(until), time.Unix(0, at).UTC()
		out = append(out, r)
	}
	return out, mapErr(rows.Err(), "read benefits' reports")
}
