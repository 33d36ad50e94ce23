package sqlstore

import (
	"context"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
)

// SaveCosigned keeps c as its witness's latest cosigned checkpoint unless one as large
// is kept: one statement, so that of two replicas saving at once the larger stays.
func (s *auditStore) SaveCosigned(ctx context.Context, c audit.Cosigned) (bool, error) {
	q := `INSERT INTO audit_cosigned (witness, size, note, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (witness) DO UPDATE SET size = excluded.size, note = excluded.note, created_at = excluded.created_at
		WHERE excluded.size > audit_cosigned.size`
	res, err := s.db.w.ExecContext(ctx, s.db.q(q), c.Witness, c.Size, c.Note, time.Now().UnixNano())
	if err != nil {
		return false, mapErr(err, "save a cosigned audit checkpoint")
	}
	n, err := res.RowsAffected()
	return n > 0, mapErr(err, "save a cosigned audit checkpoint")
}

// Cosigned lists the latest cosigned checkpoint of each witness, by witness name.
func (s *auditStore) Cosigned(ctx context.Context) ([]audit.Cosigned, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT witness, size, note FROM audit_cosigned ORDER BY witness`)
	if err != nil {
		return nil, mapErr(err, "list cosigned audit checkpoints")
	}
	defer rows.Close()
	out := []audit.Cosigned{}
	for rows.Next() {
		var c audit.Cosigned
		if err := rows.Scan(&c.Witness, &c.Size, &c.Note); err != nil {
			return nil, mapErr(err, "list cosigned audit checkpoints")
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err(), "list cosigned audit checkpoints")
}
