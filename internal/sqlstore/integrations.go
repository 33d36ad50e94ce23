package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

const (
	integrationColumns = `SELECT person, institution, capacity, begin_date, end_date, created_at, created_by FROM integration `
	integrationOrder   = ` ORDER BY person, institution, capacity, begin_date`
	filesQuery         = integrationColumns + `WHERE person = ? AND begin_date <= ? AND end_date >= ?` + integrationOrder
	afterCursor        = `(person, institution, capacity, begin_date) > (?, ?, ?, ?)`
	eachQuery          = integrationColumns + `WHERE ` + afterCursor + integrationOrder + ` LIMIT ?`
	eachChunk          = 10000
)

// Files returns the integrations of person open on day.
func (s *directoryStore) Files(ctx context.Context, person string, day date.Date) ([]directory.Integration, error) {
	p, err := personKey(person)
	if err != nil {
		return nil, err
	}
	if s.db.snap != nil {
		if files, handled, err := s.db.snapFiles(ctx, p, int32(day)); handled {
			return files, err
		}
	}
	st, err := s.db.stmt(ctx, s.db.r, filesQuery)
	if err != nil {
		return nil, mapErr(err, "find files")
	}
	rows, err := st.QueryContext(ctx, p, int32(day), int32(day))
	return scanIntegrations(rows, err, "find files")
}

// Integrations lists integrations in (person, institution, capacity, begin) order.
func (s *directoryStore) Integrations(ctx context.Context, q directory.IntegrationQuery) ([]directory.Integration, error) {
	var where []string
	var args []any
	if q.Person != "" {
		p, err := personKey(q.Person)
		if err != nil {
			return nil, err
		}
		where, args = append(where, "person = ?"), append(args, p)
	}
	if q.Institution != "" {
		where, args = append(where, "institution = ?"), append(args, q.Institution)
	}
	if q.Capacity != "" {
		where, args = append(where, "capacity = ?"), append(args, q.Capacity)
	}
	if !q.Day.IsZero() {
		where, args = append(where, "begin_date <= ? AND end_date >= ?"), append(args, int32(q.Day), int32(q.Day))
	}
	if q.After != "" {
		c, err := parseCursor(q.After)
		if err != nil {
			return nil, err
		}
		where, args = append(where, afterCursor), append(args, c...)
	}
	query := integrationColumns
	if len(where) > 0 {
		query += "WHERE " + strings.Join(where, " AND ")
	}
	query += integrationOrder + ` LIMIT ?`
	rows, err := s.db.r.QueryContext(ctx, s.db.q(query), append(args, limit(q.Limit))...)
	return scanIntegrations(rows, err, "list integrations")
}

// parseCursor reads the Cursor() of an integration as the arguments of afterCursor.
func parseCursor(s string) ([]any, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 4 {
		return nil, fault.Invalidf("after", "%q is not a cursor person/institution/capacity/begin", clip(s))
	}
	p, err := personKey(parts[0])
	if err != nil {
		return nil, fault.Invalidf("after", "%q is not a cursor: bad person number", clip(s))
	}
	begin, err := date.Parse(parts[3])
	if err != nil {
		return nil, fault.Invalidf("after", "%q is not a cursor: %v", clip(s), err)
	}
	return []any{p, parts[1], parts[2], int32(begin)}, nil
}

// EachIntegration calls fn for every integration, ended ones too, in key order. It
// reads in chunks, so no cursor stays open while fn runs.
func (s *directoryStore) EachIntegration(ctx context.Context, fn func(directory.Integration) error) error {
	after := []any{int64(-1), "", "", int32(0)}
	for {
		args := append(after, eachChunk)
		rows, err := s.db.r.QueryContext(ctx, s.db.q(eachQuery), args...)
		page, err := scanIntegrations(rows, err, "read integrations")
		if err != nil {
			return err
		}
		for _, g := range page {
			if err := fn(g); err != nil {
				return err
			}
		}
		if len(page) < eachChunk {
			return nil
		}
		last := page[len(page)-1]
		p, _ := personKey(last.Person)
		after = []any{p, last.Institution, last.Capacity, int32(last.Begin)}
	}
}

// scanIntegrations reads the rows of a listing of integrations. Rows come in person
// order, so a person's number is formatted once for all its rows.
func scanIntegrations(rows *sql.Rows, err error, op string) ([]directory.Integration, error) {
	if err != nil {
		return nil, mapErr(err, op)
	}
	defer rows.Close()
	out := make([]directory.Integration, 0, 4)
	var last int64 = -1
	var person string
	for rows.Next() {
		// int64 destinations: database/sql converts other integer types through strings.
		var g directory.Integration
		var p, begin, end, at int64
		if err := rows.Scan(&p, &g.Institution, &g.Capacity, &begin, &end, &at, &g.CreatedBy); err != nil {
			return nil, mapErr(err, op)
		}
		if p != last {
			last, person = p, personString(p)
		}
		g.Person, g.Begin, g.CreatedAt = person, date.Date(begin), time.Unix(0, at).UTC()
		if date.Date(end) != date.Max {
			g.End = date.Date(end)
		}
		out = append(out, g)
	}
	return out, mapErr(rows.Err(), op)
}

// clip shortens input echoed in a message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
