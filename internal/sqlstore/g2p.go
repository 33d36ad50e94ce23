package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/g2p"
	"github.com/crossroads-hub/crossroads/internal/iban"
)

// G2P returns the SP-MIS's store; the g2p schema must have been opened.
func (db *DB) G2P() g2p.Store { return &g2pStore{db: db} }

type g2pStore struct{ db *DB }

func (s *g2pStore) PutRegistration(ctx context.Context, r g2p.Registration) error {
	doc, err := g2p.EncodeRegistration(r)
	if err != nil {
		return err
	}
	_, err = s.db.w.ExecContext(ctx, s.db.q(`INSERT INTO g2p_registration (id, person, status, doc) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, doc = excluded.doc`), r.ID, r.Person, r.Status, string(doc))
	return mapErr(err, "store a registration")
}

func (s *g2pStore) Registration(ctx context.Context, id string) (g2p.Registration, error) {
	var doc string
	err := s.db.w.QueryRowContext(ctx, s.db.q(`SELECT doc FROM g2p_registration WHERE id = ?`), id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return g2p.Registration{}, fault.NotFoundf("registration %q does not exist", clipID(id))
	}
	if err != nil {
		return g2p.Registration{}, mapErr(err, "read a registration")
	}
	return g2p.DecodeRegistration([]byte(doc))
}

func clipID(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

const beneficiaryCols = `person, name, birth_date, from_day, status, end_reason, ended`

func (s *g2pStore) PutBeneficiary(ctx context.Context, b g2p.Beneficiary) error {
	_, err := s.db.w.ExecContext(ctx, s.db.q(`INSERT INTO g2p_beneficiary (`+beneficiaryCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (person) DO UPDATE SET name = excluded.name, birth_date = excluded.birth_date, from_day = excluded.from_day,
		status = excluded.status, end_reason = excluded.end_reason, ended = excluded.ended`),
		b.Person, b.Name, int64(b.BirthDate), int64(b.From), b.Status, b.EndReason, int64(b.Ended))
	return mapErr(err, "store a beneficiary")
}

func (s *g2pStore) AddBeneficiary(ctx context.Context, b g2p.Beneficiary) (bool, error) {
	// The upsert's condition is the race's end: of two registrations at once, the
	// second finds the first's open right and changes nothing.
	res, err := s.db.w.ExecContext(ctx, s.db.q(`INSERT INTO g2p_beneficiary (`+beneficiaryCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (person) DO UPDATE SET name = excluded.name, birth_date = excluded.birth_date, from_day = excluded.from_day,
		status = excluded.status, end_reason = excluded.end_reason, ended = excluded.ended WHERE g2p_beneficiary.status <> ?`),
		b.Person, b.Name, int64(b.BirthDate), int64(b.From), b.Status, b.EndReason, int64(b.Ended), g2p.Active)
	if err != nil {
		return false, mapErr(err, "list a beneficiary")
	}
	n, err := res.RowsAffected()
	return n > 0, mapErr(err, "list a beneficiary")
}

func scanBeneficiary(r scanner) (g2p.Beneficiary, error) {
	var b g2p.Beneficiary
	var birth, from, ended int64
	err := r.Scan(&b.Person, &b.Name, &birth, &from, &b.Status, &b.EndReason, &ended)
	b.BirthDate, b.From, b.Ended = date.Date(birth), date.Date(from), date.Date(ended)
	return b, err
}

func (s *g2pStore) Beneficiary(ctx context.Context, person string) (g2p.Beneficiary, error) {
	b, err := scanBeneficiary(s.db.w.QueryRowContext(ctx, s.db.q(`SELECT `+beneficiaryCols+` FROM g2p_beneficiary WHERE person = ?`), person))
	if errors.Is(err, sql.ErrNoRows) {
		return g2p.Beneficiary{}, fault.NotFoundf("%s is not on the programme's list", clipID(person))
	}
	return b, mapErr(err, "read a beneficiary")
}

func (s *g2pStore) Beneficiaries(ctx context.Context, day date.Date) ([]g2p.Beneficiary, error) {
	rows, err := s.db.w.QueryContext(ctx, s.db.q(`SELECT `+beneficiaryCols+` FROM g2p_beneficiary WHERE status = ? AND from_day <= ? ORDER BY person`), g2p.Active, int64(day))
	if err != nil {
		return nil, mapErr(err, "list beneficiaries")
	}
	defer rows.Close()
	var out []g2p.Beneficiary
	for rows.Next() {
		b, err := scanBeneficiary(rows)
		if err != nil {
			return nil, mapErr(err, "list beneficiaries")
		}
		out = append(out, b)
	}
	return out, mapErr(rows.Err(), "list beneficiaries")
}

// inTx runs fn in a write transaction.
func (s *g2pStore) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.begin(ctx, op)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return commit(tx, op)
}

func (s *g2pStore) EndRights(ctx context.Context, persons []string, day date.Date, reason string) error {
	return s.inTx(ctx, "end rights", func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, s.db.q(`UPDATE g2p_beneficiary SET status = ?, ended = ?, end_reason = ? WHERE person = ? AND status = ?`))
		if err != nil {
			return mapErr(err, "end rights")
		}
		defer st.Close()
		for _, p := range persons {
			if _, err := st.ExecContext(ctx, g2p.Ended, int64(day), reason, p, g2p.Active); err != nil {
				return mapErr(err, "end rights")
			}
		}
		return nil
	})
}

func (s *g2pStore) Import(ctx context.Context, bs []g2p.Beneficiary, ms []g2p.Mapping) error {
	return s.inTx(ctx, "import beneficiaries", func(tx *sql.Tx) error {
		b, err := tx.PrepareContext(ctx, s.db.q(`INSERT INTO g2p_beneficiary (`+beneficiaryCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (person) DO UPDATE SET name = excluded.name, birth_date = excluded.birth_date, from_day = excluded.from_day,
			status = excluded.status, end_reason = excluded.end_reason, ended = excluded.ended`))
		if err != nil {
			return mapErr(err, "import beneficiaries")
		}
		defer b.Close()
		for _, v := range bs {
			if _, err := b.ExecContext(ctx, v.Person, v.Name, int64(v.BirthDate), int64(v.From), v.Status, v.EndReason, int64(v.Ended)); err != nil {
				return mapErr(err, "import beneficiaries")
			}
		}
		m, err := tx.PrepareContext(ctx, s.db.q(`INSERT INTO g2p_mapping (person, fa, bank, name, linked) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (person) DO UPDATE SET fa = excluded.fa, bank = excluded.bank, name = excluded.name, linked = excluded.linked`))
		if err != nil {
			return mapErr(err, "import beneficiaries")
		}
		defer m.Close()
		for _, v := range ms {
			if _, err := m.ExecContext(ctx, v.Person, string(v.FA), v.Bank, v.Name, v.Linked.UnixNano()); err != nil {
				return mapErr(err, "import beneficiaries")
			}
		}
		return nil
	})
}

func (s *g2pStore) Link(ctx context.Context, m g2p.Mapping) error {
	_, err := s.db.w.ExecContext(ctx, s.db.q(`INSERT INTO g2p_mapping (person, fa, bank, name, linked) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (person) DO UPDATE SET fa = excluded.fa, bank = excluded.bank, name = excluded.name, linked = excluded.linked`),
		m.Person, string(m.FA), m.Bank, m.Name, m.Linked.UnixNano())
	return mapErr(err, "link an account")
}

func (s *g2pStore) Resolve(ctx context.Context, persons []string) (map[string]g2p.Mapping, error) {
	out := make(map[string]g2p.Mapping, len(persons))
	for start := 0; start < len(persons); start += bankChunk {
		part := persons[start:min(start+bankChunk, len(persons))]
		args := make([]any, len(part))
		for i, p := range part {
			args[i] = p
		}
		rows, err := s.db.w.QueryContext(ctx, s.db.q(`SELECT person, fa, bank, name, linked FROM g2p_mapping WHERE person IN (?`+strings.Repeat(",?", len(part)-1)+`)`), args...)
		if err != nil {
			return nil, mapErr(err, "resolve accounts")
		}
		for rows.Next() {
			var m g2p.Mapping
			var linked int64
			if err := rows.Scan(&m.Person, &m.FA, &m.Bank, &m.Name, &linked); err != nil {
				rows.Close()
				return nil, mapErr(err, "resolve accounts")
			}
			m.Linked = time.Unix(0, linked).UTC()
			out[m.Person] = m
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, mapErr(err, "resolve accounts")
		}
	}
	return out, nil
}

func (s *g2pStore) Unlink(ctx context.Context, person string) error {
	res, err := s.db.w.ExecContext(ctx, s.db.q(`DELETE FROM g2p_mapping WHERE person = ?`), person)
	if err != nil {
		return mapErr(err, "unlink an account")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.NotFoundf("%s has no account linked", clipID(person))
	}
	return nil
}

const instrCols = `id, cycle, person, payee, amount, currency, day, status, reason, arrears, seq`

func (s *g2pStore) AddInstructions(ctx context.Context, ins []g2p.Instr) (int, error) {
	n := 0
	err := s.inTx(ctx, "keep instructions", func(tx *sql.Tx) error {
		for start := 0; start < len(ins); start += postRows {
			part := ins[start:min(start+postRows, len(ins))]
			args := make([]any, 0, 11*len(part))
			for _, in := range part {
				args = append(args, in.ID, in.Cycle, in.Person, string(in.Payee), in.Amount, in.Currency, int64(in.Day), in.Status, in.Reason, in.Arrears, in.Seq)
			}
			rows, err := tx.QueryContext(ctx, s.db.q(`INSERT INTO g2p_instruction (`+instrCols+`) VALUES `+rowsOf(11, len(part))+` ON CONFLICT (id) DO NOTHING RETURNING id`), args...)
			if err != nil {
				return mapErr(err, "keep instructions")
			}
			for rows.Next() {
				n++
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return mapErr(err, "keep instructions")
			}
		}
		return nil
	})
	return n, err
}

func scanInstr(r scanner) (g2p.Instr, error) {
	var in g2p.Instr
	var day int64
	var payee string
	err := r.Scan(&in.ID, &in.Cycle, &in.Person, &payee, &in.Amount, &in.Currency, &day, &in.Status, &in.Reason, &in.Arrears, &in.Seq)
	in.Payee, in.Day = iban.IBAN(payee), date.Date(day)
	return in, err
}

func (s *g2pStore) listInstr(ctx context.Context, q string, args ...any) ([]g2p.Instr, error) {
	rows, err := s.db.w.QueryContext(ctx, s.db.q(q), args...)
	if err != nil {
		return nil, mapErr(err, "list instructions")
	}
	defer rows.Close()
	var out []g2p.Instr
	for rows.Next() {
		in, err := scanInstr(rows)
		if err != nil {
			return nil, mapErr(err, "list instructions")
		}
		out = append(out, in)
	}
	return out, mapErr(rows.Err(), "list instructions")
}

func (s *g2pStore) Instructions(ctx context.Context, cycle string) ([]g2p.Instr, error) {
	return s.listInstr(ctx, `SELECT `+instrCols+` FROM g2p_instruction WHERE cycle = ? ORDER BY ord`, cycle)
}

// SetInstructions updates the instructions by groups of one status, reason and seq,
// 400 ids to a statement, in one transaction.
func (s *g2pStore) SetInstructions(ctx context.Context, ins []g2p.Instr) error {
	return s.inTx(ctx, "update instructions", func(tx *sql.Tx) error { return s.setInstructions(ctx, tx, ins) })
}

func (s *g2pStore) StatementTaken(ctx context.Context, key string) (bool, error) {
	var n int
	err := s.db.w.QueryRowContext(ctx, s.db.q(`SELECT COUNT(*) FROM g2p_statement WHERE key = ?`), key).Scan(&n)
	return n > 0, mapErr(err, "read the statements taken")
}

func (s *g2pStore) TakeStatement(ctx context.Context, key, cycle string, ins []g2p.Instr) (bool, error) {
	taken := false
	err := s.inTx(ctx, "take a statement", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.q(`INSERT INTO g2p_statement (key, cycle) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`), key, cycle)
		if err != nil {
			return mapErr(err, "take a statement")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // taken before: nothing changes
		}
		taken = true
		return s.setInstructions(ctx, tx, ins)
	})
	return taken && err == nil, err
}

// setInstructions updates the status, reason and seq of ins in tx.
func (s *g2pStore) setInstructions(ctx context.Context, tx *sql.Tx, ins []g2p.Instr) error {
	type key struct {
		status, reason string
		seq            int64
	}
	groups := map[key][]any{}
	var order []key
	for _, in := range ins {
		k := key{in.Status, in.Reason, in.Seq}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], in.ID)
	}
	var n int64
	for _, k := range order {
		ids := groups[k]
		for start := 0; start < len(ids); start += bankChunk {
			part := ids[start:min(start+bankChunk, len(ids))]
			args := append([]any{k.status, k.reason, k.seq}, part...)
			res, err := tx.ExecContext(ctx, s.db.q(`UPDATE g2p_instruction SET status = ?, reason = ?, seq = ? WHERE id IN (?`+strings.Repeat(",?", len(part)-1)+`)`), args...)
			if err != nil {
				return mapErr(err, "update instructions")
			}
			m, _ := res.RowsAffected()
			n += m
		}
	}
	if n != int64(len(ins)) {
		return fault.NotFoundf("%d of the %d instructions to update do not exist (or are named twice)", int64(len(ins))-n, len(ins))
	}
	return nil
}

func (s *g2pStore) Returned(ctx context.Context) ([]g2p.Instr, error) {
	return s.listInstr(ctx, `SELECT `+prefixed("i.", instrCols)+` FROM g2p_instruction i WHERE i.status = ?
		AND NOT EXISTS (SELECT 1 FROM g2p_instruction a WHERE a.arrears = i.id) ORDER BY i.id`, g2p.Returned)
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}
