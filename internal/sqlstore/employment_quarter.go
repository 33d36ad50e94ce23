package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/fault"
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
	// PostgreSQL takes a batch as arrays.
	bulkWages = `INSERT INTO emp_wage (quarter, person, employer, file, line, wages, bonus, days, hours, fraction, contribution)
SELECT $1, u.p, u.e, $2, u.l, u.w, u.b, u.d, u.h, u.f, u.c
FROM unnest($3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::float8[], $10::float8[], $11::text[]) AS u(p, e, l, w, b, d, h, f, c)`
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

func (s *employmentStore) QuarterDeclared(ctx context.Context, q employment.Quarter, fn func(person, employer int64)) error {
	rows, err := s.db.r.QueryContext(ctx, s.db.q(`SELECT person, employer FROM emp_wage WHERE quarter = ? AND replaced = 0`), int64(q))
	if err != nil {
		return mapErr(err, "read the quarter's lines")
	}
	defer rows.Close()
	for rows.Next() {
		var p, e int64
		if err := rows.Scan(&p, &e); err != nil {
			return mapErr(err, "read the quarter's lines")
		}
		fn(p, e)
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
func (s *employmentStore) StoreQuarter(ctx context.Context, f employment.File, lines []employment.WageLine) (employment.File, error) {
	slices.SortFunc(lines, func(a, b employment.WageLine) int {
		return cmp.Or(cmp.Compare(a.PersonKey, b.PersonKey), cmp.Compare(a.EmployerKey, b.EmployerKey))
	})
	tx, err := s.db.begin(ctx, "store a quarterly file")
	if err != nil {
		return employment.File{}, err
	}
	defer tx.Rollback()
	doc, _ := json.Marshal(f)
	err = tx.QueryRowContext(ctx, s.db.q(`INSERT INTO emp_file (hash, quarter, declared_by, received_at, doc) VALUES (?, ?, ?, ?, ?) RETURNING id`),
		f.Hash, int64(f.Quarter), f.DeclaredBy, f.Received.UnixNano(), string(doc)).Scan(&f.ID)
	if err != nil {
		return employment.File{}, mapErr(err, "store a quarterly file")
	}
	if s.db.dialect == Postgres {
		err = s.wagesBulk(ctx, tx, f, lines)
	} else {
		err = s.wagesMulti(ctx, tx, f, lines)
	}
	if err != nil {
		return employment.File{}, err
	}
	if f.Replaced > 0 {
		_, err = tx.ExecContext(ctx, s.db.q(`UPDATE emp_wage SET replaced = 1 WHERE quarter = ? AND file < ? AND replaced = 0
AND EXISTS (SELECT 1 FROM emp_wage n WHERE n.quarter = emp_wage.quarter AND n.person = emp_wage.person AND n.employer = emp_wage.employer AND n.file = ?)`),
			int64(f.Quarter), f.ID, f.ID)
		if err != nil {
			return employment.File{}, mapErr(err, "store a quarterly file")
		}
	}
	return f, commit(tx, "store a quarterly file")
}

func (s *employmentStore) wagesMulti(ctx context.Context, tx *sql.Tx, f employment.File, lines []employment.WageLine) error {
	var full *sql.Stmt
	args := make([]any, 0, 11*wagesPerInsert)
	for len(lines) > 0 {
		chunk := lines[:min(len(lines), wagesPerInsert)]
		lines = lines[len(chunk):]
		args = args[:0]
		for _, w := range chunk {
			args = append(args, int64(f.Quarter), w.PersonKey, w.EmployerKey, f.ID, w.Line, w.Wages, w.Bonus, w.Days, w.Hours, w.Fraction, w.Contribution)
		}
		var err error
		if len(chunk) == wagesPerInsert {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, insertWagesMany); err != nil {
					return mapErr(err, "store a quarterly file")
				}
				defer full.Close()
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertWage+wageRow+strings.Repeat(", "+wageRow, len(chunk)-1), args...)
		}
		if err != nil {
			return mapErr(err, "store a quarterly file")
		}
	}
	return nil
}

// wagesBulk sends the lines to PostgreSQL as arrays, 10,000 at a time.
func (s *employmentStore) wagesBulk(ctx context.Context, tx *sql.Tx, f employment.File, lines []employment.WageLine) error {
	for len(lines) > 0 {
		chunk := lines[:min(len(lines), 10_000)]
		lines = lines[len(chunk):]
		n := len(chunk)
		p, e, l, w, b, d := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		h, fr, c := make([]float64, n), make([]float64, n), make([]string, n)
		for i, x := range chunk {
			p[i], e[i], l[i], w[i], b[i], d[i], h[i], fr[i], c[i] = x.PersonKey, x.EmployerKey, int64(x.Line), x.Wages, x.Bonus, int64(x.Days), x.Hours, x.Fraction, x.Contribution
		}
		if _, err := tx.ExecContext(ctx, bulkWages, int64(f.Quarter), f.ID, p, e, l, w, b, d, h, fr, c); err != nil {
			return mapErr(err, "store a quarterly file")
		}
	}
	return nil
}

func (s *employmentStore) WageLines(ctx context.Context, person string) ([]employment.WageLine, error) {
	p, err := personKey(person)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.r.QueryContext(ctx, s.db.q(`SELECT quarter, employer, file, line, wages, bonus, days, hours, fraction, contribution, replaced
FROM emp_wage WHERE person = ? ORDER BY quarter, employer, file`), p)
	if err != nil {
		return nil, mapErr(err, "list wage lines")
	}
	defer rows.Close()
	out := []employment.WageLine{}
	for rows.Next() {
		w := employment.WageLine{Person: personString(p), PersonKey: p}
		var q, replaced int64
		if err := rows.Scan(&q, &w.EmployerKey, &w.File, &w.Line, &w.Wages, &w.Bonus, &w.Days, &w.Hours, &w.Fraction, &w.Contribution, &replaced); err != nil {
			return nil, mapErr(err, "list wage lines")
		}
		w.Quarter, w.Employer, w.Replaced = employment.Quarter(q), enterpriseString(w.EmployerKey), replaced != 0
		out = append(out, w)
	}
	return out, mapErr(rows.Err(), "list wage lines")
}
