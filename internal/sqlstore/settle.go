package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"sync"
)

// On PostgreSQL an event's seq is taken when its transaction inserts it and the event is
// seen when the transaction commits: two transactions may commit out of seq order (T1
// takes 10, T2 takes 11, T2 commits first), and a relay that read up to 11 would pass 10
// for good. SettledEventSeq tells how far the log is final.
//
// A sample is a snapshot's xmax (the next transaction id then) and the largest seq it
// sees. Once every transaction with an id below that xmax has ended (the current
// snapshot's xmin has reached it), no event at or below the sample's seq can still
// appear: an event below it not seen by the snapshot was taken before the seq the
// snapshot saw, by a transaction that already had its id (every writer of events writes
// the person first, then inserts the event: record and appendEvent), so by one in
// progress at the sample. Samples are taken at each call; a call returns the largest
// settled one. Transaction ids are the whole server's: a long transaction anywhere on it
// holds the relay back until it ends.

// settler keeps the samples of one database.
type settler struct {
	mu      sync.Mutex
	settled int64
	samples []settleSample // oldest first
}

type settleSample struct {
	seq  int64
	xmax uint64
}

// maxSettleSamples bounds the samples kept while a long transaction holds them back;
// the oldest are dropped, which only delays (a later sample settles the seqs before it).
const maxSettleSamples = 64

const settleSQL = `SELECT pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text, COALESCE((SELECT MAX(seq) FROM event), 0)
FROM pg_current_snapshot() AS s`

// SettledEventSeq returns the seq up to which the event log is final: no event at or
// below it can still be committed. On SQLite, with its one writer, the last seq.
func (s *populationStore) SettledEventSeq(ctx context.Context) (int64, error) {
	if s.db.dialect != Postgres {
		return s.LastEventSeq(ctx)
	}
	return s.db.settle.bound(ctx, s.db.r)
}

func (st *settler) bound(ctx context.Context, db *sql.DB) (int64, error) {
	var xminText, xmaxText string
	var seq int64
	if err := db.QueryRowContext(ctx, settleSQL).Scan(&xminText, &xmaxText, &seq); err != nil {
		return 0, mapErr(err, "read the event log's settled end")
	}
	xmin, err1 := strconv.ParseUint(xminText, 10, 64)
	xmax, err2 := strconv.ParseUint(xmaxText, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, mapErr(err1, "read the event log's settled end")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if seq > st.settled && (len(st.samples) == 0 || seq > st.samples[len(st.samples)-1].seq) {
		if len(st.samples) == maxSettleSamples {
			st.samples = append(st.samples[:0], st.samples[1:]...)
		}
		st.samples = append(st.samples, settleSample{seq, xmax})
	}
	for len(st.samples) > 0 && st.samples[0].xmax <= xmin {
		st.settled = max(st.settled, st.samples[0].seq)
		st.samples = st.samples[1:]
	}
	return st.settled, nil
}
