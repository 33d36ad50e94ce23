package sqlstore

import (
	"context"

	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// PutPlaces inserts or replaces places in one transaction.
func (s *populationStore) PutPlaces(ctx context.Context, ps []population.Place) error {
	tx, err := s.db.begin(ctx, "put places")
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := s.db.txStmt(ctx, tx, `INSERT INTO place (code, name, kind, parent) VALUES (?, ?, ?, ?)
ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, parent = excluded.parent`)
	if err != nil {
		return mapErr(err, "put places")
	}
	defer st.Close()
	for _, p := range ps {
		if _, err := st.ExecContext(ctx, p.Code, p.Name, p.Kind, p.Parent); err != nil {
			return mapErr(err, "put places")
		}
	}
	return commit(tx, "put places")
}

// Places lists every place in code order.
func (s *populationStore) Places(ctx context.Context) ([]population.Place, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT code, name, kind, parent FROM place ORDER BY code`)
	if err != nil {
		return nil, mapErr(err, "list places")
	}
	defer rows.Close()
	out := []population.Place{}
	for rows.Next() {
		var p population.Place
		if err := rows.Scan(&p.Code, &p.Name, &p.Kind, &p.Parent); err != nil {
			return nil, mapErr(err, "list places")
		}
		out = append(out, p)
	}
	return out, mapErr(rows.Err(), "list places")
}

const (
	claim = `INSERT INTO issued (kind, number) VALUES (?, ?) ON CONFLICT DO NOTHING`
	// A registered person's number counts as issued without a row in issued.
	claimPerson = `INSERT INTO issued (kind, number) SELECT ?, ?
WHERE NOT EXISTS (SELECT 1 FROM person WHERE number = ?) ON CONFLICT DO NOTHING`
)

// Claim records number as issued under kind and reports whether it was new; see ident.Ledger.
func (s *populationStore) Claim(ctx context.Context, kind, number string) (bool, error) {
	query, args := claim, []any{kind, number}
	if kind == ident.LedgerPerson {
		n, err := personKey(number)
		if err != nil {
			return false, err
		}
		query, args = claimPerson, []any{kind, personString(n), n}
	}
	res, err := s.db.w.ExecContext(ctx, s.db.q(query), args...)
	if err != nil {
		return false, mapErr(err, "claim number")
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr(err, "claim number")
}
