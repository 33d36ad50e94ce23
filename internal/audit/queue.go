package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// queue holds, with a journal, the records acknowledged and not yet stored.
type queue struct {
	mu     sync.Mutex // also guards the journal
	recs   []pending  // recs[0] has seq first
	first  int64
	err    error         // why the last attempt to store failed; nil once one succeeds
	stored chan struct{} // closed after each attempt to store, then replaced
	wake   chan struct{} // capacity 1: records are queued
	now    chan struct{} // capacity 1: store them without waiting for more
}

// How long queued records wait for more before the flusher stores them, how long it
// waits after a failure before trying again, and how many records may be queued before
// the writer waits for the flusher. A transaction costs the store as much as a few
// dozen records in it, so a few milliseconds' worth of records go in each.
const (
	flushDelay = 5 * time.Millisecond
	retryDelay = 250 * time.Millisecond
	queueMax   = 1 << 16
)

// maxBatchPersons bounds the person-index rows of one transaction as MaxBatch bounds its
// records: a batch consultation's records name a thousand persons each (#17), and 512
// of them in one transaction, half a million index rows, could outlast storeTimeout on a
// busy machine, failing the log closed.
const maxBatchPersons = 1 << 15

// upTo returns how many of recs, from the first, one transaction stores: at most max
// records naming at most maxBatchPersons persons in all, and at least one record.
func upTo(recs []pending, max int) int {
	persons := 0
	for i, r := range recs {
		persons += len(r.persons)
		if i == max || (i > 0 && persons > maxBatchPersons) {
			return i
		}
	}
	return len(recs)
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// startJournal opens the journal, stores the records it holds that the store lacks
// (those a crash left behind), and empties it. It runs in Open, before the goroutines
// start.
func (l *Log) startJournal(ctx context.Context, dir string, d Durability) error {
	j, err := openJournal(dir)
	if err != nil {
		return fault.Wrap(err, "open the audit journal")
	}
	j.sync = d == PowerLoss
	l.j = j
	l.q = queue{first: l.size + 1, stored: make(chan struct{}), wake: make(chan struct{}, 1), now: make(chan struct{}, 1)}
	batches, torn, err := readJournal(dir)
	if torn.Bytes > 0 {
		l.log.Warn("the audit journal ends with a write cut short, never acknowledged; ignored", "segment", torn.Segment, "offset", torn.Offset, "bytes", torn.Bytes)
	}
	var damage *JournalDamage
	if errors.As(err, &damage) {
		damage.Stored = l.size
	}
	if err == nil {
		err = l.recover(ctx, batches)
	}
	if err == nil {
		err = j.clear()
	}
	if err != nil {
		j.close()
		return fault.Wrap(err, "recover the audit journal "+dir)
	}
	l.next = l.size + 1
	l.acked.Store(l.size)
	l.flushStop, l.flushDone = make(chan struct{}), make(chan struct{})
	return nil
}

// recover queues the journaled records after the store's last, which must follow it
// without a gap, and stores them.
func (l *Log) recover(ctx context.Context, batches []journaled) error {
	next := l.q.first
	for _, b := range batches {
		for i, r := range b.records {
			switch seq := b.first + int64(i); {
			case seq < next:
			case seq == next:
				l.q.recs, next = append(l.q.recs, r), next+1
			default:
				return fmt.Errorf("the journal continues at record %d but the store ends at %d: records %d to %d are lost", seq, next-1, next, seq-1)
			}
		}
	}
	if n := len(l.q.recs); n > 0 {
		l.log.Warn("storing the records the audit journal kept after a crash", "first", l.q.first, "records", n)
	}
	return l.flush(ctx)
}

// journalBatch writes reqs to the journal as one frame and queues them for the flusher; it
// returns the seq of the first. While the store refuses the queued records, new ones
// are refused too: the log fails closed.
func (l *Log) journalBatch(reqs []*request) (int64, error) {
	q := &l.q
	q.mu.Lock()
	for len(q.recs) >= queueMax && q.err == nil {
		stored := q.stored
		q.mu.Unlock()
		signal(q.now)
		<-stored
		q.mu.Lock()
	}
	if q.err != nil {
		err := q.err
		q.mu.Unlock()
		return 0, fault.Unavailablef(err, "the audit log cannot record the exchange")
	}
	first := l.next
	err := l.j.write(first, len(reqs), func(i int) ([]byte, []string) { return reqs[i].rec.body, reqs[i].rec.persons })
	if err != nil {
		q.mu.Unlock()
		l.log.Error("audit journal write failed", "first", first, "records", len(reqs), "err", err)
		return 0, fault.Unavailablef(err, "the audit log cannot record the exchange")
	}
	for _, r := range reqs {
		q.recs = append(q.recs, pending{body: r.rec.body, persons: slices.Clone(r.rec.persons)})
	}
	full := len(q.recs) >= l.max
	q.mu.Unlock()
	l.next += int64(len(reqs))
	l.acked.Store(l.next - 1)
	signal(q.wake)
	if full {
		signal(q.now)
	}
	return first, nil
}

// flushes is the flusher goroutine: it moves queued records into the store, a
// transaction at a time, until flushStop is closed and the queue is empty or the store
// fails.
func (l *Log) flushes(ctx context.Context) {
	defer close(l.flushDone)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	wait := func(d time.Duration, urgent <-chan struct{}) {
		timer.Reset(d)
		select {
		case <-timer.C:
		case <-urgent:
			timer.Stop()
		case <-l.flushStop:
			timer.Stop()
		}
	}
	for {
		select {
		case <-l.q.wake:
			wait(flushDelay, l.q.now)
		case <-l.q.now:
		case <-l.flushStop: // the writer has stopped: nothing more will come
		}
		err := l.flush(ctx)
		select {
		case <-l.flushStop:
			return
		default:
		}
		if err != nil {
			wait(retryDelay, nil)
			signal(l.q.wake)
		}
	}
}

// flush stores the queued records, at most MaxBatch a transaction, and removes from the
// journal the segments whose records are all stored.
func (l *Log) flush(ctx context.Context) error {
	q := &l.q
	for {
		err := l.align(ctx)
		q.mu.Lock()
		recs := q.recs[:upTo(q.recs, l.max)]
		q.mu.Unlock()
		if err == nil && len(recs) == 0 {
			return nil
		}
		if err == nil {
			_, err = l.commit(ctx, recs)
		}
		q.mu.Lock()
		if err == nil {
			clear(q.recs[:len(recs)])
			q.recs = q.recs[len(recs):]
			q.first += int64(len(recs))
			if jerr := l.j.stored(q.first - 1); jerr != nil {
				l.log.Warn("remove a stored audit journal segment", "err", jerr)
			}
		}
		q.err = err
		close(q.stored)
		q.stored = make(chan struct{})
		q.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// align re-reads the store after a failed batch and drops from the queue the records
// it holds: a commit whose outcome was unknown may have stored them.
func (l *Log) align(ctx context.Context) error {
	if !l.stale {
		return nil
	}
	if err := l.reload(ctx); err != nil {
		return fault.Unavailablef(err, "the audit log cannot record the exchange")
	}
	q := &l.q
	q.mu.Lock()
	defer q.mu.Unlock()
	done := l.size - (q.first - 1)
	if done < 0 || done > int64(len(q.recs)) {
		l.stale = true
		return fault.Unavailablef(fmt.Errorf("the store holds %d records; the queue starts at %d", l.size, q.first), "the audit log cannot record the exchange")
	}
	clear(q.recs[:done])
	q.recs = q.recs[done:]
	q.first += done
	return nil
}

// sync waits until the records acknowledged before it was called are stored, so that
// reads see them; without a journal they are.
func (l *Log) sync(ctx context.Context) error {
	if l.j == nil {
		return nil
	}
	want := l.acked.Load()
	q := &l.q
	for {
		q.mu.Lock()
		stored, err, ch := q.first-1, q.err, q.stored
		q.mu.Unlock()
		if stored >= want {
			return nil
		}
		if err != nil {
			return fault.Unavailablef(err, "the audit log cannot store its records")
		}
		signal(q.now)
		select {
		case <-ch:
		case <-ctx.Done():
			return fault.Unavailablef(ctx.Err(), "gave up waiting for the audit log")
		}
	}
}

// closeJournal stops the flusher once it has stored what is queued, then removes the
// journal unless records are still in it.
func (l *Log) closeJournal(ctx context.Context) error {
	close(l.flushStop)
	if err := wait(ctx, l.flushDone); err != nil {
		return err
	}
	l.q.mu.Lock()
	defer l.q.mu.Unlock()
	if l.q.err != nil || len(l.q.recs) > 0 {
		l.j.close()
		return fault.Unavailablef(l.q.err, "the audit log could not store %d records; they stay in its journal, stored when it opens next", len(l.q.recs))
	}
	err := l.j.clear()
	if cerr := l.j.close(); err == nil {
		err = cerr
	}
	return err
}
