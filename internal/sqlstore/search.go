package sqlstore

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// maxScan bounds the rows a search reads: a filter that the indexed columns narrow to
// more rows than this is refused as too broad, rather than scanning the register.
const maxScan = 20_000

// searchColumns are the person attributes with a column (and an index or the key).
var searchColumns = map[string]string{
	"person": "number", "brn": "brn", "address.municipality": "municipality",
	"birth_date": "birth_date", "death_date": "death_date", "household": "household",
}

// Searcher returns the population searcher of db.
func (db *DB) Searcher() population.Searcher { return &populationStore{db: db} }

// Search narrows with the conditions that have a column (the AND-ed comparisons at the
// top of the filter), then evaluates the whole filter on each candidate. The answer is
// therefore exact for any filter; only the work done depends on the pushed-down part.
func (s *populationStore) Search(ctx context.Context, q query.Query) ([]population.Person, int, error) {
	if q.Filter == nil {
		return nil, 0, fault.Invalidf("query", "a search needs a filter")
	}
	if err := q.Filter.Validate(); err != nil {
		return nil, 0, fault.Invalidf("query", "%v", err)
	}
	where, args := pushDown(q.Filter)
	sqlText := "SELECT doc FROM person"
	if len(where) > 0 {
		sqlText += " WHERE " + strings.Join(where, " AND ")
	}
	sqlText += " ORDER BY number LIMIT " + strconv.Itoa(maxScan+1)
	rows, err := s.db.r.QueryContext(ctx, s.db.q(sqlText), args...)
	if err != nil {
		return nil, 0, mapErr(err, "search persons")
	}
	defer rows.Close()
	var matches []population.Person
	scanned := 0
	for rows.Next() {
		if scanned++; scanned > maxScan {
			return nil, 0, fault.Invalidf("query", "the filter matches too many persons to examine (more than %d); narrow it with person, brn, address.municipality, birth_date, death_date or household", maxScan)
		}
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, 0, mapErr(err, "search persons")
		}
		var p population.Person
		if err := json.Unmarshal(doc, &p); err != nil {
			return nil, 0, fault.Wrap(err, "decode person")
		}
		if q.Filter.Eval(func(a string) (string, bool) { return population.Attr(&p, a) }) {
			matches = append(matches, p)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, mapErr(err, "search persons")
	}
	return population.Page(matches, q), len(matches), nil
}

// pushDown turns the comparisons on indexed columns among the top-level conjuncts into
// SQL. Values are bound as parameters, never spliced; attributes come from a fixed map.
func pushDown(c *query.Cond) ([]string, []any) {
	conj := []*query.Cond{c}
	if c.Op == query.And {
		conj = c.Args
	}
	var where []string
	var args []any
	for _, t := range conj {
		col, ok := searchColumns[t.Attr]
		if !ok {
			continue
		}
		op := map[string]string{query.Eq: "=", query.Lt: "<", query.Le: "<=", query.Gt: ">", query.Ge: ">="}[t.Op]
		if s, isStr := t.Value.(string); isStr && op != "" {
			if v, ok := columnValue(col, s); ok {
				where = append(where, col+" "+op+" ?")
				args = append(args, v)
			}
			continue
		}
		if vs, isList := t.Value.([]string); isList && t.Op == query.In && len(vs) > 0 {
			var ps []string
			var vals []any
			for _, s := range vs {
				if v, ok := columnValue(col, s); ok {
					ps, vals = append(ps, "?"), append(vals, v)
				}
			}
			if len(ps) == len(vs) {
				where = append(where, col+" IN ("+strings.Join(ps, ", ")+")")
				args = append(args, vals...)
			}
		}
	}
	return where, args
}

// columnValue converts an attribute value to the column's stored form; false when it has
// no such form (then the condition is left to Eval).
func columnValue(col, s string) (any, bool) {
	switch col {
	case "number":
		n, err := personKey(s)
		return n, err == nil
	case "birth_date", "death_date":
		d, err := date.Parse(s)
		return int32(d), err == nil && !d.IsZero()
	}
	return s, !slices.Contains([]string{"", "\x00"}, s)
}
