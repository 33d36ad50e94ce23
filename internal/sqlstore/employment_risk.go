package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// The social-risk declarations (employment.RiskStore): a row per declaration, its JSON
// document what was recorded, with the acknowledgement once given.

func (s *employmentStore) ApplyRisk(ctx context.Context, d employment.RiskDeclaration, ev employment.Mutation) (employment.RiskDeclaration, error) {
	p, err := personKey(d.Person)
	if err != nil {
		return employment.RiskDeclaration{}, err
	}
	e, err := enterpriseKey(d.Employer)
	if err != nil {
		return employment.RiskDeclaration{}, err
	}
	tx, err := s.db.begin(ctx, "record a social-risk declaration")
	if err != nil {
		return employment.RiskDeclaration{}, err
	}
	defer tx.Rollback()
	if d.Event, err = s.appendEvent(ctx, tx, ev); err != nil {
		return employment.RiskDeclaration{}, err
	}
	err = tx.QueryRowContext(ctx, s.db.q(`INSERT INTO emp_risk (person, employer, case_id, institution, status, doc, dedup) VALUES (?, ?, ?, ?, ?, '{}', ?) RETURNING id`),
		p, e, d.Case, d.Institution, d.Status, d.Key()).Scan(&d.ID)
	if err != nil {
		return employment.RiskDeclaration{}, mapErr(err, "record a social-risk declaration")
	}
	caseID := d.Case
	if d.Phase == employment.RiskStart {
		caseID = d.ID
	}
	doc, _ := json.Marshal(d)
	if _, err := tx.ExecContext(ctx, s.db.q(`UPDATE emp_risk SET doc = ?, case_id = ? WHERE id = ?`), string(doc), caseID, d.ID); err != nil {
		return employment.RiskDeclaration{}, mapErr(err, "record a social-risk declaration")
	}
	return d, commit(tx, "record a social-risk declaration")
}

func (s *employmentStore) Risk(ctx context.Context, id int64) (employment.RiskDeclaration, error) {
	var doc string
	err := s.db.r.QueryRowContext(ctx, s.db.q(`SELECT doc FROM emp_risk WHERE id = ?`), id).Scan(&doc)
	if err == sql.ErrNoRows {
		return employment.RiskDeclaration{}, fault.NotFoundf("no social-risk declaration %d", id)
	}
	if err != nil {
		return employment.RiskDeclaration{}, mapErr(err, "read a social-risk declaration")
	}
	return riskDoc(doc)
}

func riskDoc(doc string) (employment.RiskDeclaration, error) {
	var d employment.RiskDeclaration
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return d, fault.Wrap(err, "read a social-risk declaration")
	}
	return d, nil
}

func (s *employmentStore) risks(ctx context.Context, q string, args ...any) ([]employment.RiskDeclaration, error) {
	rows, err := s.db.r.QueryContext(ctx, s.db.q(q), args...)
	if err != nil {
		return nil, mapErr(err, "list social-risk declarations")
	}
	defer rows.Close()
	out := []employment.RiskDeclaration{}
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, mapErr(err, "list social-risk declarations")
		}
		d, err := riskDoc(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, mapErr(rows.Err(), "list social-risk declarations")
}

func (s *employmentStore) Risks(ctx context.Context, person string) ([]employment.RiskDeclaration, error) {
	p, err := personKey(person)
	if err != nil {
		return nil, err
	}
	return s.risks(ctx, `SELECT doc FROM emp_risk WHERE person = ? ORDER BY id`, p)
}

func (s *employmentStore) RisksFor(ctx context.Context, institution, status string, after int64, limit int) ([]employment.RiskDeclaration, error) {
	if status == "" {
		return s.risks(ctx, `SELECT doc FROM emp_risk WHERE institution = ? AND id > ? ORDER BY id LIMIT ?`, institution, after, limit)
	}
	return s.risks(ctx, `SELECT doc FROM emp_risk WHERE institution = ? AND status = ? AND id > ? ORDER BY id LIMIT ?`, institution, status, after, limit)
}

func (s *employmentStore) AckRisk(ctx context.Context, id int64, institution, ref string, at time.Time) (employment.RiskDeclaration, error) {
	tx, err := s.db.begin(ctx, "acknowledge a social-risk declaration")
	if err != nil {
		return employment.RiskDeclaration{}, err
	}
	defer tx.Rollback()
	var doc string
	err = tx.QueryRowContext(ctx, s.db.q(`SELECT doc FROM emp_risk WHERE id = ? AND institution = ?`+s.db.forUpdate()), id, institution).Scan(&doc)
	if err == sql.ErrNoRows {
		return employment.RiskDeclaration{}, fault.NotFoundf("no social-risk declaration %d routed to you", id)
	}
	if err != nil {
		return employment.RiskDeclaration{}, mapErr(err, "acknowledge a social-risk declaration")
	}
	d, err := riskDoc(doc)
	if err != nil {
		return employment.RiskDeclaration{}, err
	}
	if d.Status == employment.RiskAcknowledged {
		return employment.RiskDeclaration{}, fault.Conflictf("id", "declaration %d was acknowledged on %s", id, d.AckAt.Format(time.RFC3339))
	}
	d.Status, d.AckAt, d.AckRef = employment.RiskAcknowledged, at.UTC(), ref
	b, _ := json.Marshal(d)
	if _, err := tx.ExecContext(ctx, s.db.q(`UPDATE emp_risk SET status = ?, doc = ? WHERE id = ?`), d.Status, string(b), id); err != nil {
		return employment.RiskDeclaration{}, mapErr(err, "acknowledge a social-risk declaration")
	}
	return d, commit(tx, "acknowledge a social-risk declaration")
}
