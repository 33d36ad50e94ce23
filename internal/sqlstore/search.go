package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	limits "github.com/crossroads-hub/crossroads/internal/limit"
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
// top of the filter, a region standing for its municipalities), then evaluates the whole
// filter on each candidate. The answer is therefore exact for any filter; only the work
// done depends on the pushed-down part. When all of the filter is pushed down and the
// order is by person number, the database counts and pages: a page costs its own rows
// and an index count, however many persons match.
func (s *populationStore) Search(ctx context.Context, q query.Query) ([]population.Person, int, error) {
	if q.Filter == nil {
		return nil, 0, fault.Invalidf("query", "a search needs a filter")
	}
	if err := q.Filter.Validate(); err != nil {
		return nil, 0, fault.Invalidf("query", "%v", err)
	}
	regions, err := s.regions(ctx)
	if err != nil {
		return nil, 0, err
	}
	where, args, all := pushDown(q.Filter, regions)
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	if q.Scope != nil {
		if all && len(where) > 0 && byNumber(q) {
			return s.searchScopedPaged(ctx, q, where, args)
		}
		return s.searchScoped(ctx, q, cond, args)
	}
	if all && len(where) > 0 && byNumber(q) {
		return s.searchPaged(ctx, q, cond, args)
	}
	rows, err := s.db.r.QueryContext(ctx, s.db.q("SELECT doc FROM person"+cond+" ORDER BY number LIMIT "+strconv.Itoa(maxScan+1)), args...)
	if err != nil {
		return nil, 0, mapErr(err, "search persons")
	}
	defer rows.Close()
	var matches []population.Person
	scanned := 0
	err = eachPerson(rows, func(p population.Person) error {
		limits.Pace(ctx)
		if scanned++; scanned > maxScan {
			return fault.Invalidf("query", "the filter matches too many persons to examine (more than %d); narrow it with person, brn, address.region, address.municipality, birth_date, death_date or household", maxScan)
		}
		if q.Filter.Eval(func(a string) (string, bool) { return population.Attr(&p, a) }) {
			matches = append(matches, p)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return population.Page(matches, q), len(matches), nil
}

// searchScoped answers a filter over q.Scope only: the persons the asker may see. It
// starts from the smaller side: the scope's persons, read by number, when nothing in the
// filter narrows the register or there are fewer of them than the register's candidates
// (counted from the indexes), else the candidates, skipping those outside the scope
// before decoding them. Either way the answer, and
// the refusal of a filter matching more than maxScan persons, depend on the scope alone.
func (s *populationStore) searchScoped(ctx context.Context, q query.Query, cond string, args []any) ([]population.Person, int, error) {
	n := q.Scope.Len()
	if n == 0 {
		return []population.Person{}, 0, nil
	}
	var matches []population.Person
	keep := func(p population.Person) error {
		limits.Pace(ctx) // an admitted filter's share of the processor (exchange.Limits)
		if !q.Filter.Eval(func(a string) (string, bool) { return population.Attr(&p, a) }) {
			return nil
		}
		if len(matches) == maxScan {
			return fault.Invalidf("query", "the filter matches more than %d of the persons you may see; narrow it", maxScan)
		}
		matches = append(matches, p)
		return nil
	}
	fromScope, err := s.scopeSmaller(ctx, n, cond, args)
	if err != nil {
		return nil, 0, err
	}
	if fromScope {
		err = s.eachInScope(ctx, q.Scope, keep)
	} else {
		err = s.eachCandidate(ctx, q.Scope, cond, args, keep)
	}
	if err != nil {
		return nil, 0, err
	}
	return population.Page(matches, q), len(matches), nil
}

// searchScopedPaged answers, within q.Scope, a filter the columns express entirely, in
// person-number order: the matching numbers come from the indexes alone (from the scope's
// numbers, or the register's filtered by the scope, whichever side is smaller), and only
// the page's documents are read. The answer and the "too broad" refusal are those of
// searchScoped.
func (s *populationStore) searchScopedPaged(ctx context.Context, q query.Query, where []string, args []any) ([]population.Person, int, error) {
	n := q.Scope.Len()
	if n == 0 {
		return []population.Person{}, 0, nil
	}
	cond := " WHERE " + strings.Join(where, " AND ")
	fromScope, err := s.scopeSmaller(ctx, n, cond, args)
	if err != nil {
		return nil, 0, err
	}
	var keys []int64
	collect := func(query string, qargs []any) error {
		rows, err := s.db.r.QueryContext(ctx, s.db.q(query), qargs...)
		if err != nil {
			return mapErr(err, "search persons")
		}
		defer rows.Close()
		for rows.Next() {
			limits.Pace(ctx)
			var k int64
			if err := rows.Scan(&k); err != nil {
				return mapErr(err, "search persons")
			}
			keys = append(keys, k)
		}
		return mapErr(rows.Err(), "search persons")
	}
	if fromScope {
		for after := ""; ; {
			numbers := q.Scope.Persons(after, scopeChunk)
			if len(numbers) == 0 {
				break
			}
			after = numbers[len(numbers)-1]
			in := make([]any, 0, len(numbers)+len(args))
			for _, p := range numbers {
				if k, err := personKey(p); err == nil {
					in = append(in, k)
				}
			}
			in = append(in, args...)
			if err := collect("SELECT number FROM person WHERE number IN (?"+strings.Repeat(", ?", len(in)-len(args)-1)+") AND "+strings.Join(where, " AND ")+" ORDER BY number", in); err != nil {
				return nil, 0, err
			}
		}
	} else {
		// In index order, sorted here once the scope has thinned them out: SQLite would
		// sort every candidate.
		if err := collect("SELECT number FROM person"+cond, args); err != nil {
			return nil, 0, err
		}
		in := scopeTest(q.Scope)
		keys = slices.DeleteFunc(keys, func(k int64) bool { return !in(k) })
		slices.Sort(keys)
	}
	if len(keys) > maxScan {
		return nil, 0, fault.Invalidf("query", "the filter matches more than %d of the persons you may see; narrow it", maxScan)
	}
	if len(q.Sort) == 1 && q.Sort[0].Desc {
		slices.Reverse(keys)
	}
	from := min(q.Offset(), len(keys))
	page := keys[from:min(from+q.PageSize, len(keys))]
	out := []population.Person{}
	if len(page) == 0 {
		return out, len(keys), nil
	}
	in := make([]any, len(page))
	for i, k := range page {
		in[i] = k
	}
	rows, err := s.db.r.QueryContext(ctx, s.db.q("SELECT doc FROM person WHERE number IN (?"+strings.Repeat(", ?", len(in)-1)+")"), in...)
	if err != nil {
		return nil, 0, mapErr(err, "search persons")
	}
	defer rows.Close()
	byKey := map[string]population.Person{}
	if err := eachPerson(rows, func(p population.Person) error { byKey[p.Number] = p; return nil }); err != nil {
		return nil, 0, err
	}
	for _, k := range page {
		if p, ok := byKey[personString(k)]; ok {
			out = append(out, p)
		}
	}
	return out, len(keys), nil
}

// scopeSmaller says whether a scope of n persons is the side to start from: when nothing
// narrows the register (cond empty), or when it is at most scopeFirst persons and the
// candidates the indexes narrow the register to (counted only then) are no fewer.
func (s *populationStore) scopeSmaller(ctx context.Context, n int, cond string, args []any) (bool, error) {
	if cond == "" {
		return true, nil
	}
	if n > scopeFirst {
		return false, nil
	}
	var candidates int
	if err := s.db.r.QueryRowContext(ctx, s.db.q("SELECT COUNT(*) FROM person"+cond), args...).Scan(&candidates); err != nil {
		return false, mapErr(err, "count persons")
	}
	return n <= candidates, nil
}

// scopeTest returns how to tell whether a person number, as the store keeps it, is in
// scope: by the integer when the scope can (directory.Scope), else by its digits.
func scopeTest(scope query.Scope) func(int64) bool {
	if ks, ok := scope.(interface{ ContainsKey(uint64) bool }); ok {
		return func(k int64) bool { return k >= 0 && ks.ContainsKey(uint64(k)) }
	}
	return func(k int64) bool { return scope.Contains(personString(k)) }
}

// scopeFirst bounds the scope read person by person when the indexed conditions narrow
// the register: the side with fewer persons is read, and the scope only up to this size
// (a variable so that tests can take either path).
var scopeFirst = maxScan

// scopeChunk is how many persons of a scope one query reads.
const scopeChunk = 500

// eachInScope calls fn with every person of scope in the register, in number order.
func (s *populationStore) eachInScope(ctx context.Context, scope query.Scope, fn func(population.Person) error) error {
	for after := ""; ; {
		numbers := scope.Persons(after, scopeChunk)
		if len(numbers) == 0 {
			return nil
		}
		after = numbers[len(numbers)-1]
		keys := make([]any, 0, len(numbers))
		for _, n := range numbers {
			if k, err := personKey(n); err == nil {
				keys = append(keys, k)
			}
		}
		rows, err := s.db.r.QueryContext(ctx, s.db.q("SELECT doc FROM person WHERE number IN (?"+strings.Repeat(", ?", len(keys)-1)+") ORDER BY number"), keys...)
		if err != nil {
			return mapErr(err, "search persons")
		}
		err = eachPerson(rows, fn)
		rows.Close()
		if err != nil {
			return err
		}
	}
}

// eachCandidate calls fn with every person of the register that meets cond and is in
// scope, in number order; the others are skipped by their number, undecoded.
func (s *populationStore) eachCandidate(ctx context.Context, scope query.Scope, cond string, args []any, fn func(population.Person) error) error {
	in := scopeTest(scope)
	rows, err := s.db.r.QueryContext(ctx, s.db.q("SELECT number, doc FROM person"+cond+" ORDER BY number"), args...)
	if err != nil {
		return mapErr(err, "search persons")
	}
	defer rows.Close()
	for rows.Next() {
		var number int64
		var doc []byte
		if err := rows.Scan(&number, &doc); err != nil {
			return mapErr(err, "search persons")
		}
		limits.Pace(ctx) // rows outside the scope cost their reading too
		if !in(number) {
			continue
		}
		var p population.Person
		if err := population.DecodePerson(doc, &p); err != nil {
			return fault.Wrap(err, "decode person")
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return mapErr(rows.Err(), "search persons")
}

// searchPaged answers a filter the columns express entirely: a count, then one page.
func (s *populationStore) searchPaged(ctx context.Context, q query.Query, cond string, args []any) ([]population.Person, int, error) {
	var total int
	if err := s.db.r.QueryRowContext(ctx, s.db.q("SELECT COUNT(*) FROM person"+cond), args...).Scan(&total); err != nil {
		return nil, 0, mapErr(err, "count persons")
	}
	order := " ORDER BY number"
	if len(q.Sort) == 1 && q.Sort[0].Desc {
		order += " DESC"
	}
	// The page's numbers come from the index alone (sorting numbers, not documents); then
	// only the page's documents are read.
	sqlText := "SELECT doc FROM person WHERE number IN (SELECT number FROM person" + cond + order +
		" LIMIT " + strconv.Itoa(q.PageSize) + " OFFSET " + strconv.Itoa(q.Offset()) + ")" + order
	rows, err := s.db.r.QueryContext(ctx, s.db.q(sqlText), args...)
	if err != nil {
		return nil, 0, mapErr(err, "search persons")
	}
	defer rows.Close()
	out := []population.Person{}
	err = eachPerson(rows, func(p population.Person) error { out = append(out, p); return nil })
	return out, total, err
}

// eachPerson decodes the documents of rows (one column, doc) and calls fn with each;
// an error of fn stops it.
func eachPerson(rows *sql.Rows, fn func(population.Person) error) error {
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return mapErr(err, "search persons")
		}
		var p population.Person
		if err := population.DecodePerson(doc, &p); err != nil {
			return fault.Wrap(err, "decode person")
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return mapErr(rows.Err(), "search persons")
}

// byNumber reports whether q's records come in person-number order: no sort and no
// opaque order (query.Query.Opaque), or a sort by person number alone.
func byNumber(q query.Query) bool {
	return (len(q.Sort) == 0 && q.Opaque == "") || (len(q.Sort) == 1 && q.Sort[0].Attr == "person")
}

// regions returns the municipalities of each region, read from the places at most
// placesTTL ago (places change with a new nation, not during searches).
func (s *populationStore) regions(ctx context.Context) (map[string][]string, error) {
	c := &s.db.regions
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m != nil && time.Since(c.at) < placesTTL {
		return c.m, nil
	}
	places, err := s.Places(ctx)
	if err != nil {
		return nil, err
	}
	m := map[string][]string{}
	for _, p := range places {
		if p.Parent != "" {
			m[p.Parent] = append(m[p.Parent], p.Code)
		}
	}
	c.m, c.at = m, time.Now()
	return m, nil
}

const placesTTL = 10 * time.Second

// regionCache holds the municipalities of each region.
type regionCache struct {
	mu sync.Mutex
	m  map[string][]string
	at time.Time
}

// pushDown turns the comparisons on indexed columns among the top-level conjuncts into
// SQL; all reports whether every conjunct was. Values are bound as parameters, never
// spliced; attributes come from a fixed map. address.region = R is municipality IN (the
// municipalities of R): a person's region is that of their municipality in the place
// tree, which the register keeps consistent (Record moves both together).
func pushDown(c *query.Cond, regions map[string][]string) (where []string, args []any, all bool) {
	conj := []*query.Cond{c}
	if c.Op == query.And {
		conj = c.Args
	}
	all = true
	for _, t := range conj {
		if t.Attr == "address.region" && t.Op == query.Eq {
			if r, ok := t.Value.(string); ok {
				ms := regions[r]
				if len(ms) == 0 {
					where = append(where, "1 = 0") // no such region: nothing matches
					continue
				}
				where = append(where, "municipality IN (?"+strings.Repeat(", ?", len(ms)-1)+")")
				for _, m := range ms {
					args = append(args, m)
				}
				continue
			}
		}
		col, ok := searchColumns[t.Attr]
		if !ok {
			all = false
			continue
		}
		op := map[string]string{query.Eq: "=", query.Lt: "<", query.Le: "<=", query.Gt: ">", query.Ge: ">="}[t.Op]
		if s, isStr := t.Value.(string); isStr && op != "" {
			if v, ok := columnValue(col, s); ok {
				if col == "birth_date" || col == "death_date" {
					where = append(where, col+" <> 0") // no date: the condition is false, as in Eval
				}
				where = append(where, col+" "+op+" ?")
				args = append(args, v)
				continue
			}
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
				continue
			}
		}
		all = false
	}
	return where, args, all
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
