package cluster

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// Verdict is what the audit log holds of the exchanges a client saw answered.
type Verdict struct {
	Records  int64    // in the log
	Lost     int      // answered, and not in the log as answered (missing, or not bound to the answer received)
	Repeated int      // answered, and in the log more than once
	Problems []string // the first few, to read
}

// CheckAudit reads the whole audit log of store and checks that each answered exchange
// is in it exactly once: under its message id, at the seq the hub named, bound to the
// answer the client received.
func CheckAudit(ctx context.Context, store string, answered []Answered) (Verdict, error) {
	db, err := sqlstore.Open(ctx, store, sqlstore.Hub)
	if err != nil {
		return Verdict{}, err
	}
	defer db.Close()
	byID := map[string][]audit.Record{}
	var v Verdict
	for after := int64(0); ; {
		es, err := db.Audit().Records(ctx, after, 5000)
		if err != nil {
			return v, fmt.Errorf("read the audit log after %d: %w", after, err)
		}
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			var r audit.Record
			if err := json.Unmarshal(e.Body, &r); err != nil {
				return v, fmt.Errorf("audit record %d: %w", e.Seq, err)
			}
			r.Seq = e.Seq
			if r.MessageID != "" {
				byID[r.MessageID] = append(byID[r.MessageID], r)
			}
			after = e.Seq
		}
		v.Records = after
	}
	for _, a := range answered {
		rs := byID[a.MessageID]
		switch {
		case len(rs) == 0:
			v.Lost++
			v.note("exchange %s answered (record %d): not in the log", a.MessageID, a.Seq)
		case len(rs) > 1:
			v.Repeated++
			v.note("exchange %s: %d records", a.MessageID, len(rs))
		case rs[0].Seq != a.Seq || rs[0].ResponseHash != hex.EncodeToString(a.Hash[:]) || rs[0].Decision != "permit":
			v.Lost++
			v.note("exchange %s: record %d (%s, %s) is not the answer received (record %d)", a.MessageID, rs[0].Seq, rs[0].Decision, rs[0].ResponseHash, a.Seq)
		}
	}
	return v, nil
}

func (v *Verdict) note(format string, args ...any) {
	if len(v.Problems) < 10 {
		v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
	}
}
