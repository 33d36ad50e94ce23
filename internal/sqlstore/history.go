package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
)

const insertChange = `INSERT INTO history (at, actor, kind, key, op, before_doc, after_doc) VALUES (?, ?, ?, ?, ?, ?, ?)`

// appendChange appends c to the history in tx; the store assigns Seq.
func (db *DB) appendChange(ctx context.Context, tx *sql.Tx, c directory.Change) error {
	st, err := db.txStmt(ctx, tx, insertChange)
	if err != nil {
		return mapErr(err, "append history")
	}
	defer st.Close()
	_, err = st.ExecContext(ctx, c.At.UnixNano(), c.Actor, string(c.Kind), c.Key, c.Op, nullText(c.Before), nullText(c.After))
	return mapErr(err, "append history")
}

// History returns changes in sequence order.
func (s *directoryStore) History(ctx context.Context, q directory.HistoryQuery) ([]directory.Change, error) {
	query := `SELECT seq, at, actor, kind, key, op, before_doc, after_doc FROM history WHERE seq > ?`
	args := []any{q.After}
	if q.Kind != "" {
		query, args = query+` AND kind = ?`, append(args, string(q.Kind))
	}
	if q.Key != "" {
		query, args = query+` AND key = ?`, append(args, q.Key)
	}
	query, args = query+` ORDER BY seq LIMIT ?`, append(args, limit(q.Limit))
	rows, err := s.db.r.QueryContext(ctx, s.db.q(query), args...)
	if err != nil {
		return nil, mapErr(err, "read history")
	}
	defer rows.Close()
	out := []directory.Change{}
	for rows.Next() {
		var c directory.Change
		var kind string
		var at int64
		if err := rows.Scan(&c.Seq, &at, &c.Actor, &kind, &c.Key, &c.Op, (*[]byte)(&c.Before), (*[]byte)(&c.After)); err != nil {
			return nil, mapErr(err, "read history")
		}
		c.Kind, c.At = directory.Kind(kind), time.Unix(0, at).UTC()
		out = append(out, c)
	}
	return out, mapErr(rows.Err(), "read history")
}
