package audit

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Scanner is a Store that hands Verify its records as stored, each with the stored
// hashes it added to the tree, in one read, and lets Verify expand them (the costly
// part: rebuilding the canonical bytes and hashing them) on every processor. The SQL
// stores implement it; Verify reads any other Store record by record.
type Scanner interface {
	// ScanRecords returns up to limit records with seq > after, in seq order, as
	// stored. It must not keep dst, which it may reuse.
	ScanRecords(ctx context.Context, after int64, limit int, dst []StoredRecord) ([]StoredRecord, error)
	// ExpandRecord appends the canonical bytes of record seq stored as stored. It is
	// safe for concurrent use. Damaged bytes are not an error: returned as stored, they
	// do not hash to the tree's leaf.
	ExpandRecord(ctx context.Context, dst []byte, seq int64, stored []byte) ([]byte, error)
}

// StoredRecord is a record as a Scanner reads it.
type StoredRecord struct {
	Seq    int64
	Body   []byte // the stored form (compact, or the canonical JSON)
	Hashes []byte // the stored hashes it added, 32 bytes each, its leaf hash first
}

// scanChunk is how many records a scan reads at a time, and a worker hashes: a few
// hundred kilobytes, so that the chunks in flight (scanAhead a worker) bound memory.
const (
	scanChunk = 4096
	scanAhead = 2
)

// scanned is one chunk of records on its way through the pipeline: read in order,
// expanded and leaf-hashed by any worker, checked in order.
type scanned struct {
	recs   []StoredRecord
	leaves []tlog.Hash
	seqOK  []bool // the canonical bytes begin with the record's seq
	err    error  // the store's, from reading or expanding
	end    bool   // the read stopped here: a gap, the size Verify began with, or err
	done   chan struct{}
}

// scan checks records v.rep.Records+1 to v.rep.Size with the store's Scanner: one
// goroutine reads chunks, workers expand and hash their leaves in parallel, and this
// goroutine checks them in log order against the stored hashes, the tree and the
// checkpoints. Memory is a few chunks, whatever the log's size.
func (v *verifier) scan(s Scanner, workers int, progress func(done, total int64)) error {
	ctx, cancel := context.WithCancel(v.ctx)
	defer cancel()
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	work := make(chan *scanned, workers*scanAhead)
	order := make(chan *scanned, workers*scanAhead)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var buf []byte
			for c := range work {
				buf = c.hash(ctx, s, buf)
				close(c.done)
			}
		})
	}
	wg.Go(func() {
		defer close(work)
		defer close(order)
		v.read(ctx, s, work, order)
	})
	defer wg.Wait()
	defer cancel() // before the wait: the reader and workers stop at once on an error
	for c := range order {
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if c.err != nil {
			return c.err
		}
		if err := v.check(c); err != nil {
			return err
		}
		if progress != nil && len(c.recs) > 0 {
			progress(v.rep.Records, v.rep.Size)
		}
		if c.end {
			break
		}
	}
	if err := v.ctx.Err(); err != nil {
		return err
	}
	if v.rep.Records < v.rep.Size {
		return &Problem{Seq: v.rep.Records + 1, Reason: "missing"}
	}
	return nil
}

// read sends the chunks, in order, to both the workers and the checker, and stops after
// the last record Verify checks, at a gap or at an error.
func (v *verifier) read(ctx context.Context, s Scanner, work, order chan<- *scanned) {
	after := v.rep.Records
	for after < v.rep.Size {
		c := &scanned{done: make(chan struct{})}
		c.recs, c.err = s.ScanRecords(ctx, after, int(min(scanChunk, v.rep.Size-after)), nil)
		for i, r := range c.recs {
			if r.Seq != after+1+int64(i) || r.Seq > v.rep.Size { // a gap, or appended since
				c.recs, c.end = c.recs[:i], true
				break
			}
		}
		if len(c.recs) == 0 || c.err != nil {
			c.end = true
		}
		select {
		case order <- c:
		case <-ctx.Done():
			return
		}
		select {
		case work <- c:
		case <-ctx.Done():
			return
		}
		if c.end {
			return
		}
		after = c.recs[len(c.recs)-1].Seq
	}
}

// hash expands the chunk's records and hashes their leaves; buf is the worker's.
func (c *scanned) hash(ctx context.Context, s Scanner, buf []byte) []byte {
	if c.err != nil {
		return buf
	}
	c.leaves = make([]tlog.Hash, len(c.recs))
	c.seqOK = make([]bool, len(c.recs))
	var prefix []byte
	for i, r := range c.recs {
		var err error
		if buf, err = s.ExpandRecord(ctx, buf[:0], r.Seq, r.Body); err != nil {
			c.err = err
			return buf
		}
		c.leaves[i] = tlog.RecordHash(buf)
		prefix = withSeq(append(prefix[:0], seqlessPrefix+","...), r.Seq)
		c.seqOK[i] = bytes.HasPrefix(buf, prefix)
	}
	return buf
}

// check checks a hashed chunk in log order, as record and checkpointsAt do for Verify's
// record-by-record read.
func (v *verifier) check(c *scanned) error {
	for i, r := range c.recs {
		n := int64(tlog.StoredHashCount(r.Seq) - tlog.StoredHashIndex(0, r.Seq-1))
		stored, err := v.storedHashes(r, n)
		if err != nil {
			return err
		}
		if c.leaves[i] != stored[0] {
			return &Problem{Seq: r.Seq, Reason: "stored bytes do not hash to the tree's leaf"}
		}
		hashes, err := tlog.StoredHashesForRecordHash(r.Seq-1, c.leaves[i], &v.front)
		if err != nil {
			return fault.Wrap(err, "recompute the audit tree")
		}
		first := tlog.StoredHashIndex(0, r.Seq-1)
		for level := 1; level < len(hashes); level++ {
			if hashes[level] != stored[level] {
				k := (r.Seq - 1) >> level
				return &Problem{Seq: r.Seq, Reason: fmt.Sprintf(
					"stored hash %d (level %d, records %d to %d) differs from the recomputed tree",
					first+int64(level), level, k<<level+1, (k+1)<<level)}
			}
		}
		if !c.seqOK[i] {
			return &Problem{Seq: r.Seq, Reason: "stored bytes do not begin with this seq"}
		}
		v.front.add(r.Seq-1, hashes)
		v.rep.Records = r.Seq
		if err := v.checkpointsAt(r.Seq); err != nil {
			return err
		}
	}
	return nil
}

// storedHashes returns the n stored hashes record r added: from its row, or, when the
// row does not hold them (a layout that kept them apart), from the store.
func (v *verifier) storedHashes(r StoredRecord, n int64) ([]tlog.Hash, error) {
	if int64(len(r.Hashes)) == 32*n {
		out := v.hashBuf[:0]
		for k := range n {
			out = append(out, tlog.Hash(r.Hashes[32*k:32*k+32]))
		}
		v.hashBuf = out
		return out, nil
	}
	from := tlog.StoredHashIndex(0, r.Seq-1)
	indexes := make([]int64, n)
	for i := range indexes {
		indexes[i] = from + int64(i)
	}
	stored, err := v.store.ReadHashes(v.ctx, indexes)
	if fault.KindOf(err) == fault.NotFound {
		return nil, &Problem{Seq: r.Seq, Reason: "stored hashes of this record or the next ones are missing"}
	}
	if err != nil {
		return nil, err
	}
	if int64(len(stored)) != n {
		return nil, fault.Wrap(fmt.Errorf("read %d stored hashes; want %d", len(stored), n), "verify the audit log")
	}
	return stored, nil
}
