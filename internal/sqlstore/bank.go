package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/bank"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/iban"
)

// Bank returns the demo bank's store; the bank schema must have been opened.
func (db *DB) Bank() bank.Store { return &bankStore{db: db} }

type bankStore struct{ db *DB }

// chunk is how many values one IN list or multi-row statement takes.
const bankChunk = 400

func (s *bankStore) PutAccounts(ctx context.Context, as []bank.Account) error {
	tx, err := s.db.begin(ctx, "store bank accounts")
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q := `INSERT INTO bank_account (iban, holder, person, birth_date, closed) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (iban) DO UPDATE SET holder = excluded.holder, person = excluded.person, birth_date = excluded.birth_date, closed = excluded.closed`
	st, err := tx.PrepareContext(ctx, s.db.q(q))
	if err != nil {
		return mapErr(err, "store bank accounts")
	}
	defer st.Close()
	for _, a := range as {
		if _, err := st.ExecContext(ctx, string(a.IBAN), a.Holder, a.Person, int64(a.BirthDate), boolInt(a.Closed)); err != nil {
			return mapErr(err, "store bank accounts")
		}
	}
	return commit(tx, "store bank accounts")
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (s *bankStore) Accounts(ctx context.Context, ibans []iban.IBAN) (map[iban.IBAN]bank.Account, error) {
	out := make(map[iban.IBAN]bank.Account, len(ibans))
	for start := 0; start < len(ibans); start += bankChunk {
		part := ibans[start:min(start+bankChunk, len(ibans))]
		args := make([]any, len(part))
		for i, v := range part {
			args[i] = string(v)
		}
		q := `SELECT iban, holder, person, birth_date, closed FROM bank_account WHERE iban IN (?` + strings.Repeat(",?", len(part)-1) + `)`
		rows, err := s.db.r.QueryContext(ctx, s.db.q(q), args...)
		if err != nil {
			return nil, mapErr(err, "read bank accounts")
		}
		for rows.Next() {
			var a bank.Account
			var bd, closed int64
			if err := rows.Scan(&a.IBAN, &a.Holder, &a.Person, &bd, &closed); err != nil {
				rows.Close()
				return nil, mapErr(err, "read bank accounts")
			}
			a.BirthDate, a.Closed = date.Date(bd), closed != 0
			out[a.IBAN] = a
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, mapErr(err, "read bank accounts")
		}
	}
	return out, nil
}

const postingCols = `id, batch, payer, payee, amount, currency, day, remit, status, reason, bank_ref, booked`

func scanPosting(r scanner) (bank.Posting, error) {
	var p bank.Posting
	var day, booked int64
	err := r.Scan(&p.ID, &p.Batch, &p.Payer, &p.Payee, &p.Amount, &p.Currency, &day, &p.Remit, &p.Status, &p.Reason, &p.BankRef, &booked)
	p.Day, p.Booked = date.Date(day), date.Date(booked)
	return p, err
}

// postRows is how many postings one INSERT carries.
const postRows = 200

// Post inserts the new postings, 200 to a statement (those whose id is held are left,
// and read back), in one transaction.
func (s *bankStore) Post(ctx context.Context, ps []bank.Posting) ([]bank.Posting, []bool, error) {
	held, fresh := make([]bank.Posting, len(ps)), make([]bool, len(ps))
	tx, err := s.db.begin(ctx, "book payments")
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	for start := 0; start < len(ps); start += postRows {
		part := ps[start:min(start+postRows, len(ps))]
		args := make([]any, 0, 12*len(part))
		for _, p := range part {
			args = append(args, p.ID, p.Batch, string(p.Payer), string(p.Payee), p.Amount, p.Currency, int64(p.Day), p.Remit, p.Status, p.Reason, p.BankRef, int64(p.Booked))
		}
		q := `INSERT INTO bank_posting (` + postingCols + `) VALUES ` + rowsOf(12, len(part)) + ` ON CONFLICT (id) DO NOTHING RETURNING id`
		rows, err := tx.QueryContext(ctx, s.db.q(q), args...)
		if err != nil {
			return nil, nil, mapErr(err, "book payments")
		}
		inserted := make(map[string]bool, len(part))
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, nil, mapErr(err, "book payments")
			}
			inserted[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, mapErr(err, "book payments")
		}
		var again []any
		for k, p := range part {
			if inserted[p.ID] {
				held[start+k], fresh[start+k] = p, true
				delete(inserted, p.ID) // the same id twice in one call: the second is a duplicate
			} else {
				again = append(again, p.ID)
			}
		}
		if len(again) == 0 {
			continue
		}
		prev, err := s.postingsByID(ctx, tx, again)
		if err != nil {
			return nil, nil, err
		}
		for k, p := range part {
			if !fresh[start+k] {
				held[start+k] = prev[p.ID]
			}
		}
	}
	if err := commit(tx, "book payments"); err != nil {
		return nil, nil, err
	}
	return held, fresh, nil
}

// rowsOf is "(?,?,…),(?,?,…)…": n rows of cols placeholders.
func rowsOf(cols, n int) string {
	row := "(?" + strings.Repeat(",?", cols-1) + ")"
	return row + strings.Repeat(","+row, n-1)
}

func (s *bankStore) postingsByID(ctx context.Context, tx *sql.Tx, ids []any) (map[string]bank.Posting, error) {
	out := make(map[string]bank.Posting, len(ids))
	rows, err := tx.QueryContext(ctx, s.db.q(`SELECT `+postingCols+` FROM bank_posting WHERE id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`), ids...)
	if err != nil {
		return nil, mapErr(err, "book payments")
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPosting(rows)
		if err != nil {
			return nil, mapErr(err, "book payments")
		}
		out[p.ID] = p
	}
	return out, mapErr(rows.Err(), "book payments")
}

func (s *bankStore) Postings(ctx context.Context, payer iban.IBAN, day date.Date) ([]bank.Posting, error) {
	rows, err := s.db.r.QueryContext(ctx, s.db.q(`SELECT `+postingCols+` FROM bank_posting WHERE payer = ? AND booked = ? ORDER BY seq`), string(payer), int64(day))
	if err != nil {
		return nil, mapErr(err, "read postings")
	}
	defer rows.Close()
	var out []bank.Posting
	for rows.Next() {
		p, err := scanPosting(rows)
		if err != nil {
			return nil, mapErr(err, "read postings")
		}
		out = append(out, p)
	}
	return out, mapErr(rows.Err(), "read postings")
}
