package sqlstore

import (
	"context"
	"database/sql"

	"github.com/crossroads-hub/crossroads/internal/directory"
)

// On PostgreSQL a statement is a network round trip, so lines go in chunks: one INSERT
// and one UPDATE over unnest()ed arrays per chunk. A line whose (person, institution,
// capacity) appears only once in its chunk is independent of the chunk's other lines and
// goes in bulk; lines sharing a key with another line of the chunk go one by one, in order.
const chunkSize = 5000

// integrateLock serialises batches, so two batches cannot both add overlapping periods.
const integrateLock = 0x63726f7373 // "cross"

const (
	bulkAdd = `INSERT INTO integration (person, institution, capacity, begin_date, end_date, created_at, created_by)
SELECT i.p, i.inst, i.cap, i.b, i.e, $6, $7
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::int[]) AS i(p, inst, cap, b, e)
WHERE NOT EXISTS (SELECT 1 FROM integration g WHERE g.person = i.p AND g.institution = i.inst
  AND g.capacity = i.cap AND g.begin_date <= i.e AND g.end_date >= i.b)
ON CONFLICT DO NOTHING
RETURNING person, institution, capacity`
	bulkEnd = `UPDATE integration g SET end_date = i.e
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::int[]) AS i(p, inst, cap, b, e)
WHERE g.person = i.p AND g.institution = i.inst AND g.capacity = i.cap AND g.begin_date = i.b
  AND g.end_date = 99991231
RETURNING g.person, g.institution, g.capacity, g.created_at, g.created_by`
	bulkHistory = `INSERT INTO history (at, actor, kind, key, op, before_doc, after_doc)
SELECT $1, $2, 'integration', t.k, 'end', t.b::json, t.a::json
FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS t(k, b, a, n) ORDER BY t.n`
)

// lineKey is what makes integration lines interfere with each other.
type lineKey struct {
	person           int64
	institution, cap string
}

func (b *batch) key(i int) lineKey {
	return lineKey{b.persons[i], b.lines[i].Institution, b.lines[i].Capacity}
}

// applyBulk applies the lines chunk by chunk.
func (s *directoryStore) applyBulk(ctx context.Context, tx *sql.Tx, b *batch) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(integrateLock)); err != nil {
		return mapErr(err, "integrate")
	}
	st, err := s.prepareLines(ctx, tx)
	if err != nil {
		return err
	}
	for lo := 0; lo < len(b.lines); lo += chunkSize {
		adds, ends, each := b.split(lo, min(lo+chunkSize, len(b.lines)))
		if err := s.addChunk(ctx, tx, st, b, adds); err != nil {
			return err
		}
		if err := s.endChunk(ctx, tx, b, ends); err != nil {
			return err
		}
		for _, i := range each {
			if err := s.applyLine(ctx, tx, st, b, i); err != nil {
				return err
			}
		}
	}
	return nil
}

// split sorts the pending lines of [lo, hi) into bulk adds, bulk ends and lines to apply
// one by one because their key occurs more than once in the chunk.
func (b *batch) split(lo, hi int) (adds, ends, each []int) {
	count := make(map[lineKey]int, hi-lo)
	for i := lo; i < hi; i++ {
		count[b.key(i)]++
	}
	for i := lo; i < hi; i++ {
		switch {
		case !b.pending(i):
		case count[b.key(i)] > 1:
			each = append(each, i)
		case b.lines[i].Action == directory.ActionEnd:
			ends = append(ends, i)
		default:
			adds = append(adds, i)
		}
	}
	return adds, ends, each
}

// columns are the unnest() arguments of a set of lines.
func (b *batch) columns(idx []int) []any {
	ps, insts, caps := make([]int64, len(idx)), make([]string, len(idx)), make([]string, len(idx))
	begins, ends := make([]int32, len(idx)), make([]int32, len(idx))
	for n, i := range idx {
		l := b.lines[i]
		ps[n], insts[n], caps[n], begins[n], ends[n] = b.persons[i], l.Institution, l.Capacity, int32(l.Begin), openEnd(l.End)
	}
	return []any{ps, insts, caps, begins, ends}
}

// addChunk inserts the lines of idx that overlap nothing and rejects the others.
func (s *directoryStore) addChunk(ctx context.Context, tx *sql.Tx, st *lineStmts, b *batch, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, bulkAdd, append(b.columns(idx), b.at.UnixNano(), b.actor)...)
	if err != nil {
		return mapErr(err, "integrate")
	}
	added, err := scanKeys(rows, nil)
	if err != nil {
		return err
	}
	for _, i := range idx {
		if _, ok := added[b.key(i)]; ok {
			continue
		}
		rejected, err := s.rejectOverlap(ctx, st.find, b, i)
		if err != nil {
			return err
		}
		if !rejected {
			b.reject(i, "begin", "the period could not be recorded: it conflicts with a concurrent change")
		}
	}
	return nil
}

// endChunk closes the open periods the lines of idx name, rejects the lines that name
// none, and appends one history entry per closed period.
func (s *directoryStore) endChunk(ctx context.Context, tx *sql.Tx, b *batch, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, bulkEnd, b.columns(idx)...)
	if err != nil {
		return mapErr(err, "integrate")
	}
	ended, err := scanKeys(rows, func() []any { return []any{new(int64), new(string)} })
	if err != nil {
		return err
	}
	var keys, befores, afters []string
	for _, i := range idx {
		created, ok := ended[b.key(i)]
		if !ok {
			b.reject(i, "begin", noOpenPeriod(b.lines[i]))
			continue
		}
		c := endChange(b, b.lines[i], *created[0].(*int64), *created[1].(*string))
		keys, befores, afters = append(keys, c.Key), append(befores, string(c.Before)), append(afters, string(c.After))
	}
	if len(keys) == 0 {
		return nil
	}
	_, err = tx.ExecContext(ctx, bulkHistory, b.at.UnixNano(), b.actor, keys, befores, afters)
	return mapErr(err, "integrate")
}

// scanKeys reads rows of (person, institution, capacity, extra…) into a set keyed by line key.
func scanKeys(rows *sql.Rows, extra func() []any) (map[lineKey][]any, error) {
	defer rows.Close()
	out := make(map[lineKey][]any)
	for rows.Next() {
		var k lineKey
		var more []any
		if extra != nil {
			more = extra()
		}
		if err := rows.Scan(append([]any{&k.person, &k.institution, &k.cap}, more...)...); err != nil {
			return nil, mapErr(err, "integrate")
		}
		out[k] = more
	}
	return out, mapErr(rows.Err(), "integrate")
}
