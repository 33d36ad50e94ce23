package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// Roster returns the register's bulk reader of briefs; the civil schema must have been
// opened.
func (db *DB) Roster() population.Roster { return &populationStore{db: db} }

func (s *populationStore) briefCols() string {
	if s.db.dialect == Postgres {
		return `number, municipality, birth_date, death_date, household, coalesce(doc->>'sex', ''), coalesce((doc->>'registry_changes')::int, 0)`
	}
	// A look-up by list picks the two members from the document in Go, in one pass
	// (briefDoc), rather than computing the generated columns sex and registry_changes
	// (json_extract parses the document once for each); a range reads them from the
	// covering index (Briefs).
	return `number, municipality, birth_date, death_date, household, doc`
}

func (s *populationStore) Briefs(ctx context.Context, after string, limit int) ([]population.Brief, error) {
	a := int64(-1)
	if after != "" {
		n, err := personKey(after)
		if err != nil && cursorDigits(after) { // a place in the number space, not a person
			n, err = strconv.ParseInt(after, 10, 64)
		}
		if err != nil {
			return nil, fault.Invalidf("after", "%q is not a person number", clip(after))
		}
		a = n
	}
	limit = min(max(limit, 1), 100_000)
	if s.db.dialect == Postgres {
		return s.briefs(ctx, s.db.q(`SELECT `+s.briefCols()+` FROM person WHERE number > ? ORDER BY number LIMIT ?`), limit, a, limit)
	}
	// A range of the covering index person_brief (civil migration 4): the documents are
	// not read. SQLite's planner would take the rowid table for the order of numbers.
	return s.briefsOf(ctx, limit, func(ctx context.Context, args ...any) (*sql.Rows, error) {
		return s.db.r.QueryContext(ctx, `SELECT number, municipality, birth_date, death_date, household, sex, registry_changes
FROM person INDEXED BY person_brief WHERE number > ? ORDER BY number LIMIT ?`, args...)
	}, a, limit)
}

func (s *populationStore) BriefsOf(ctx context.Context, persons []string) ([]population.Brief, error) {
	if len(persons) == 0 {
		return nil, nil
	}
	args := make([]any, len(persons))
	for i, p := range persons {
		k, err := personKey(p)
		if err != nil {
			return nil, err
		}
		args[i] = k
	}
	return s.in(ctx, "number", args)
}

func (s *populationStore) HouseholdBriefs(ctx context.Context, households []string) ([]population.Brief, error) {
	if len(households) == 0 {
		return nil, nil
	}
	args := make([]any, len(households))
	for i, h := range households {
		args[i] = h
	}
	return s.in(ctx, "household", args)
}

// in reads the persons whose column is one of args, at most 1,000 at a time.
func (s *populationStore) in(ctx context.Context, col string, args []any) ([]population.Brief, error) {
	var out []population.Brief
	for len(args) > 0 {
		chunk := args[:min(len(args), 1024)]
		args = args[len(chunk):]
		// The list is padded to a power of two with its last value (IN reads it once),
		// so that a few statements, prepared once, serve every size: the rights
		// follower asks for a few persons and households many times a second.
		n := 8
		for n < len(chunk) {
			n *= 2
		}
		padded := make([]any, n)
		copy(padded, chunk)
		for i := len(chunk); i < n; i++ {
			padded[i] = chunk[len(chunk)-1]
		}
		st, err := s.db.stmt(ctx, s.db.r, `SELECT `+s.briefCols()+` FROM person WHERE `+col+` IN (?`+strings.Repeat(",?", n-1)+`) ORDER BY number`)
		if err != nil {
			return nil, mapErr(err, "list persons")
		}
		bs, err := s.briefsOf(ctx, len(chunk), st.QueryContext, padded...)
		if err != nil {
			return nil, err
		}
		out = append(out, bs...)
	}
	return out, nil
}

func (s *populationStore) briefs(ctx context.Context, q string, size int, args ...any) ([]population.Brief, error) {
	return s.briefsOf(ctx, size, func(ctx context.Context, args ...any) (*sql.Rows, error) {
		return s.db.r.QueryContext(ctx, q, args...)
	}, args...)
}

// briefsOf reads the briefs query gives, about size of them.
func (s *populationStore) briefsOf(ctx context.Context, size int, query func(ctx context.Context, args ...any) (*sql.Rows, error), args ...any) ([]population.Brief, error) {
	rows, err := query(ctx, args...)
	if err != nil {
		return nil, mapErr(err, "list persons")
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, mapErr(err, "list persons")
	}
	out := make([]population.Brief, 0, size)
	var doc sql.RawBytes
	for rows.Next() {
		var b population.Brief
		var n, birth, death int64
		var changes sql.NullInt64
		var err error
		if len(cols) == 7 { // the sex and the count as columns
			var sex sql.RawBytes
			if err = rows.Scan(&n, &b.Municipality, &birth, &death, &b.Household, &sex, &changes); err == nil {
				b.Sex = sexOf(sex)
			}
		} else if err = rows.Scan(&n, &b.Municipality, &birth, &death, &b.Household, &doc); err == nil {
			b.Sex, changes.Int64 = briefDoc(doc)
		}
		if err != nil {
			return nil, mapErr(err, "list persons")
		}
		b.Number, b.BirthDate, b.DeathDate, b.RegistryChanges = personString(n), date.Date(birth), date.Date(death), int(changes.Int64)
		out = append(out, b)
	}
	return out, mapErr(rows.Err(), "list persons")
}

// sexOf is sex as a string, the usual values without a copy.
func sexOf(sex []byte) string {
	switch string(sex) {
	case "male":
		return "male"
	case "female":
		return "female"
	}
	return string(sex)
}

// briefDoc reads the sex and the count of declared changes of a person's stored
// document, as json_extract(doc, '$.sex') and '$.registry_changes' would ("" and 0 when
// absent or not of their type).
func briefDoc(doc []byte) (sex string, changes int64) {
	pick := func(name string, v []byte) {
		switch name {
		case "sex":
			switch string(v) { // the usual values without a copy
			case `"male"`:
				sex = "male"
			case `"female"`:
				sex = "female"
			default:
				sex, _ = rawjson.Unquote(v)
			}
		case "registry_changes":
			if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				changes = n
			} else if f, err := strconv.ParseFloat(string(v), 64); err == nil {
				changes = int64(f)
			}
		}
	}
	if !rawjson.EachPlainMember(doc, func(name, v []byte) bool { pick(string(name), v); return true }) {
		sex, changes = "", 0
		rawjson.EachMember(doc, func(name string, v []byte) bool { pick(name, v); return true })
	}
	return sex, changes
}

// cursorDigits reports whether s is 11 digits, a place among person numbers.
func cursorDigits(s string) bool {
	if len(s) != 11 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
