package audit

import (
	"context"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// write is the writer goroutine: it gathers a batch, commits it (to the journal, or
// without one to the store), then answers every request of the batch. It returns when
// in is closed and drained.
func (l *Log) write(ctx context.Context) {
	defer close(l.writerDone)
	batch := make([]*request, 0, l.max)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for req := range l.in {
		batch = l.gather(append(batch[:0], req), timer)
		var first int64
		var err error
		if l.j != nil {
			first, err = l.journalBatch(batch)
		} else {
			l.recs = l.recs[:0]
			for _, r := range batch {
				l.recs = append(l.recs, r.rec)
			}
			first, err = l.commit(ctx, l.recs)
			clear(l.recs)
		}
		l.pending.Add(-int64(len(batch)))
		for i, r := range batch {
			r.seq, r.err = first+int64(i), err
			if err != nil {
				r.seq = 0
			}
			r.done <- struct{}{}
		}
		clear(batch)
	}
}

// How long a batch waits for more requests: at most gatherWait in all, and, when only the
// size of the last batch suggests more will come, at most gatherIdle after the last one
// came in.
const (
	gatherWait = 2 * time.Millisecond
	gatherIdle = 200 * time.Microsecond
)

// gather adds requests to batch until MaxBatch or gatherWait, or until it holds the
// records announced by Append (sent or about to be) and half of those announced by
// Expect (exchanges under way, whose records are in this batch or still to come). A
// commit costs the writer as much as a few dozen records in it, so waiting a little for
// records that are surely coming saves most of its work under load (measured with the
// exchange benchmark: 15–20 % more exchanges per second), while a lone caller waits for
// nobody. Waiting for all of them would hold every caller in each batch, in lock-step,
// and leave the processors idle during the commit. Without announcements the batch also waits, for gatherIdle after each
// arrival, until it is as large as the last one: the callers answered by the last batch
// are on their way back with their next records, and taking only the requests already
// sent would alternate tiny and large batches.
func (l *Log) gather(batch []*request, timer *time.Timer) []*request {
	defer func() { l.last = len(batch) }()
	start := time.Now()
	persons := len(batch[0].rec.persons)
	for len(batch) < l.max && persons < maxBatchPersons {
		select {
		case r, ok := <-l.in:
			if !ok {
				return batch
			}
			batch = append(batch, r)
			persons += len(r.rec.persons)
			continue
		default:
		}
		n := int64(len(batch))
		coming := max(l.pending.Load(), l.coming.Load()/2)
		if n >= max(int64(l.last), coming) {
			return batch
		}
		left := gatherWait - time.Since(start)
		if left <= 0 {
			return batch
		}
		// Wait in slices of gatherIdle: an exchange answered by the last batch counts
		// as coming until its caller says it is over, a moment after.
		timer.Reset(min(gatherIdle, left))
		select {
		case r, ok := <-l.in:
			timer.Stop()
			if !ok {
				return batch
			}
			batch = append(batch, r)
			persons += len(r.rec.persons)
		case <-timer.C:
			if n >= coming {
				return batch // only the last batch's size was waited for
			}
		}
	}
	return batch
}

// commit stores recs as one batch and returns the seq of the first. On failure the
// tree is put back as it was and the next batch re-reads it from the store.
func (l *Log) commit(ctx context.Context, recs []pending) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	// With a journal, seqs are given out as records are acknowledged: the log is then
	// this process's alone, shared store or not.
	if s, ok := l.store.(SharedStore); ok && l.j == nil {
		return l.commitShared(ctx, s, recs)
	}
	if l.stale {
		if err := l.reload(ctx); err != nil {
			l.log.Error("audit log store unavailable", "err", err)
			return 0, fault.Unavailablef(err, "the audit log cannot record the exchange")
		}
	}
	saved := l.front
	b, err := l.build(recs)
	if err == nil {
		err = l.store.Append(ctx, *b)
	}
	if err != nil {
		l.front, l.stale = saved, true
		l.log.Error("audit batch failed", "first", b.First, "records", len(recs), "err", err)
		return 0, fault.Unavailablef(err, "the audit log cannot record the exchange")
	}
	l.size += int64(len(recs))
	root, err := tlog.TreeHash(l.size, &l.front)
	if err != nil { // cannot happen: the frontier holds what TreeHash reads
		l.stale = true
		return 0, fault.Wrap(err, "hash the audit log's tree")
	}
	l.head.Store(&treeHead{size: l.size, root: root})
	return b.First, nil
}

// build encodes recs with consecutive seqs, adding their hashes to the frontier.
func (l *Log) build(recs []pending) (*Batch, error) {
	b := &l.batch
	b.First = l.size + 1
	clear(b.Records)
	b.Records, b.Hashes, b.Persons = b.Records[:0], b.Hashes[:0], b.Persons[:0]
	for i, r := range recs {
		seq := b.First + int64(i)
		body := withSeq(r.body, seq)
		hashes, err := tlog.StoredHashes(seq-1, body, &l.front)
		if err != nil {
			return b, fault.Wrap(err, "hash an audit record")
		}
		l.front.add(seq-1, hashes)
		b.Records = append(b.Records, body)
		b.Hashes = append(b.Hashes, hashes...)
		for _, p := range r.persons {
			b.Persons = append(b.Persons, PersonSeq{Person: p, Seq: seq})
		}
	}
	return b, nil
}
