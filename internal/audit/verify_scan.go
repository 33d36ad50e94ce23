package audit

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"strconv"
	"sync"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Scanner is a Store that hands Verify its records as stored, each with the stored
// hashes it added to the tree, a range at a time, from several goroutines at once, and
// gives Verify its dictionary, so that Verify reads, expands and hashes ranges of the
// log on every processor. The SQL stores implement it; Verify reads any other Store
// record by record.
type Scanner interface {
	// ScanRecords reads up to limit records with seq > after, in seq order, as stored,
	// into b (b.Reset first, then b.Add for each). It is safe for concurrent use.
	ScanRecords(ctx context.Context, after int64, limit int, b *ScanBatch) error
	// Dictionary returns the texts of the numbers compact records hold. It is safe for
	// concurrent use; a number it does not know is a NotFound fault.
	Dictionary() NameOf
}

// StoredRecord is a record as a Scanner reads it.
type StoredRecord struct {
	Seq    int64
	Body   []byte // the stored form (compact, or the canonical JSON)
	Hashes []byte // the stored hashes it added, 32 bytes each, its leaf hash first; nil when the row holds none
}

// ScanBatch is a range of records a Scanner read. Its memory is reused from range to
// range: the records' bytes are copied into one buffer, not allocated row by row.
type ScanBatch struct {
	Records []StoredRecord
	arena   []byte
}

// Reset empties b, keeping its memory.
func (b *ScanBatch) Reset() {
	b.Records, b.arena = b.Records[:0], b.arena[:0]
}

// Add appends a record, copying body and hashes (which the caller may then reuse).
// nil hashes: the row holds none (a layout that kept them apart).
func (b *ScanBatch) Add(seq int64, body, hashes []byte) {
	n := len(body) + len(hashes)
	if cap(b.arena)-len(b.arena) < n {
		// The earlier records keep the buffer they are in; the next ranges use this one.
		b.arena = make([]byte, 0, max(2*cap(b.arena), 256<<10, n))
	}
	start := len(b.arena)
	b.arena = append(append(b.arena, body...), hashes...)
	r := StoredRecord{Seq: seq, Body: b.arena[start : start+len(body) : start+len(body)]}
	if hashes != nil {
		r.Hashes = b.arena[start+len(body) : len(b.arena) : len(b.arena)]
	}
	b.Records = append(b.Records, r)
}

// scanChunk is how many records a worker reads, expands and hashes at a time; scanAhead
// how many ranges a worker may be ahead of the in-order check: the ranges in flight (a
// few hundred kilobytes each) bound memory.
const (
	scanChunk = 4096
	scanAhead = 2
)

// scanned is one range of records on its way through the pipeline: read, expanded and
// leaf-hashed by any worker, checked in log order.
type scanned struct {
	lo, hi int64 // records lo+1 to hi
	batch  ScanBatch
	leaves []tlog.Hash
	seqOK  []bool // the canonical bytes begin with the record's seq
	err    error  // the store's, from reading or from its dictionary
	end    bool   // the range does not hold records lo+1 to hi in order (a gap), or err
	done   chan struct{}
}

// scan checks records v.rep.Records+1 to v.rep.Size with the store's Scanner. The log
// is cut into ranges of chunk records; workers each read a range on their own
// connection, expand its records and hash their leaves, in parallel; this goroutine
// checks the ranges in log order against the stored hashes, the tree and the
// checkpoints. Memory is a few ranges, whatever the log's size.
func (v *verifier) scan(s Scanner, workers, chunk int, progress func(done, total int64)) error {
	ctx, cancel := context.WithCancel(v.ctx)
	defer cancel()
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	if chunk < 1 {
		chunk = scanChunk
	}
	inFlight := workers * scanAhead
	free := make(chan *scanned, inFlight)
	for range inFlight {
		free <- &scanned{}
	}
	work := make(chan *scanned, inFlight)
	order := make(chan *scanned, inFlight)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			x := &leafHasher{names: newQuotedNames(s.Dictionary())}
			for c := range work {
				c.load(ctx, s, x)
				close(c.done)
			}
		})
	}
	wg.Go(func() {
		defer close(work)
		defer close(order)
		v.deal(ctx, int64(chunk), free, work, order)
	})
	defer wg.Wait()
	defer cancel() // before the wait: the dealer and workers stop at once on an error
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
		if progress != nil && len(c.batch.Records) > 0 {
			progress(v.rep.Records, v.rep.Size)
		}
		end := c.end
		free <- c // never blocks: c came from free
		if end {
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

// deal cuts records v.rep.Records+1 to v.rep.Size into ranges and sends each, in log
// order, to both the workers and the checker, as free ranges come back.
func (v *verifier) deal(ctx context.Context, chunk int64, free <-chan *scanned, work, order chan<- *scanned) {
	for lo := v.rep.Records; lo < v.rep.Size; lo += chunk {
		var c *scanned
		select {
		case c = <-free:
		case <-ctx.Done():
			return
		}
		c.lo, c.hi, c.err, c.end, c.done = lo, min(lo+chunk, v.rep.Size), nil, false, make(chan struct{})
		order <- c // neither send blocks: each channel holds every range there is
		work <- c
	}
}

// load reads the range's records, expands them and hashes their leaves.
func (c *scanned) load(ctx context.Context, s Scanner, x *leafHasher) {
	if c.err = s.ScanRecords(ctx, c.lo, int(c.hi-c.lo), &c.batch); c.err != nil {
		c.end = true
		return
	}
	recs := c.batch.Records
	for i, r := range recs {
		if r.Seq != c.lo+1+int64(i) || r.Seq > c.hi { // a gap
			recs = recs[:i]
			break
		}
	}
	c.batch.Records = recs
	c.end = int64(len(recs)) < c.hi-c.lo
	c.leaves = append(c.leaves[:0], make([]tlog.Hash, len(recs))...)
	c.seqOK = append(c.seqOK[:0], make([]bool, len(recs))...)
	for i, r := range recs {
		if c.leaves[i], c.seqOK[i], c.err = x.leaf(r.Seq, r.Body); c.err != nil {
			c.end = true
			return
		}
	}
}

// leafHasher expands records and hashes their leaves, for one worker: its buffer and
// its copy of the dictionary are its own.
type leafHasher struct {
	names *quotedNames
	buf   []byte
}

// leaf returns the leaf hash of record seq stored as stored, and whether its canonical
// bytes begin with its seq. Damaged bytes are not an error: hashed as stored, they do
// not match the tree's leaf.
func (x *leafHasher) leaf(seq int64, stored []byte) (tlog.Hash, bool, error) {
	b := append(x.buf[:0], 0) // tlog's leaf hash is SHA-256(0x00 || record)
	if IsCompact(stored) {
		out, err := expand(b, seq, compactReader{b: stored[1:], names: x.names})
		switch {
		case err == nil:
			b = out
		case errors.Is(err, ErrDamaged) || fault.KindOf(err) == fault.NotFound:
			b = append(b[:1], stored...)
		default:
			return tlog.Hash{}, false, err
		}
	} else {
		b = append(b, stored...)
	}
	x.buf = b
	return sha256.Sum256(b), hasSeq(b[1:], seq), nil
}

// hasSeq reports whether canonical bytes begin with {"seq":seq, — seq is the first
// field of the canonical encoding.
func hasSeq(b []byte, seq int64) bool {
	const open = `{"seq":`
	var num [24]byte
	n := strconv.AppendInt(num[:0], seq, 10)
	return len(b) > len(open)+len(n) && string(b[:len(open)]) == open &&
		string(b[len(open):len(open)+len(n)]) == string(n) && b[len(open)+len(n)] == ','
}

// check checks a hashed range in log order, as record and checkpointsAt do for Verify's
// record-by-record read.
func (v *verifier) check(c *scanned) error {
	var hashes [64]tlog.Hash
	for i, r := range c.batch.Records {
		n := 1 + bits.TrailingZeros64(uint64(r.Seq)) // the leaf, then one per subtree it completes
		stored, err := v.storedHashes(r, int64(n))
		if err != nil {
			return err
		}
		if c.leaves[i] != stored[0] {
			return &Problem{Seq: r.Seq, Reason: "stored bytes do not hash to the tree's leaf"}
		}
		if err := v.interior(r.Seq, c.leaves[i], hashes[:n]); err != nil {
			return err
		}
		for level := 1; level < n; level++ {
			if hashes[level] != stored[level] {
				first, k := tlog.StoredHashIndex(0, r.Seq-1), (r.Seq-1)>>level
				return &Problem{Seq: r.Seq, Reason: fmt.Sprintf(
					"stored hash %d (level %d, records %d to %d) differs from the recomputed tree",
					first+int64(level), level, k<<level+1, (k+1)<<level)}
			}
		}
		if !c.seqOK[i] {
			return &Problem{Seq: r.Seq, Reason: "stored bytes do not begin with this seq"}
		}
		v.front.add(r.Seq-1, hashes[:n])
		v.rep.Records = r.Seq
		if err := v.checkpointsAt(r.Seq); err != nil {
			return err
		}
	}
	return nil
}

// interior fills hashes (one per level, the leaf first) with the hashes record seq
// adds to the tree, each subtree it completes hashed from its left half, on the
// frontier, and its right half, just computed: tlog.StoredHashesForRecordHash without
// its allocations.
func (v *verifier) interior(seq int64, leaf tlog.Hash, hashes []tlog.Hash) error {
	hashes[0] = leaf
	for level := 1; level < len(hashes); level++ {
		left := &v.front.levels[level-1]
		want := tlog.StoredHashIndex(level-1, (seq-1)>>(level-1)-1)
		if !left.ok || left.index != want {
			return fault.Wrap(fmt.Errorf("stored hash %d is not on the tree's frontier", want), "recompute the audit tree")
		}
		hashes[level] = tlog.NodeHash(left.hash, hashes[level-1])
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
