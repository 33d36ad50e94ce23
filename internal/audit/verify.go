package audit

import (
	"bytes"
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// verifyChunk is how many records Verify reads at a time.
const verifyChunk = 1000

// Report sums up what Verify checked.
type Report struct {
	Size        int64     `json:"size"`           // the log's size when Verify began
	From        int64     `json:"from,omitempty"` // resumed after this checkpoint's size: records From+1 to Records checked
	Records     int64     `json:"records"`        // records checked, 1 (or From+1) to Records
	Checkpoints int64     `json:"checkpoints"`    // checkpoints checked
	Root        tlog.Hash `json:"root"`           // the recomputed root of the first Records records
	// Last is the signed note of the largest checkpoint checked ("" if none): where a
	// later run may resume (VerifyOptions.From).
	Last string `json:"last_checkpoint,omitempty"`
}

// VerifyOptions tunes Verify.
type VerifyOptions struct {
	// From resumes after a checkpoint a previous run verified (its Report.Last): its
	// signature is checked again, and the store's tree at its size must have its root
	// (the hashes of its complete subtrees, read from the store, bound to the signed
	// root); the records before it are not read again. Checkpoints after it are checked
	// against the recomputed tree, which extends it.
	From string
	// Workers read, expand and hash ranges of the log in parallel on a Scanner; 0
	// means one per processor.
	Workers int
	// Chunk is how many records a range holds on a Scanner; 0 means 4,096 (tests cut
	// a small log into many ranges with a small one).
	Chunk int
	// Progress, when not nil, is called after each chunk of records.
	Progress func(done, total int64)
}

// Problem is the first broken record or checkpoint Verify found.
type Problem struct {
	Seq        int64  // the broken record; 0 when a checkpoint is broken
	Checkpoint int64  // the size of the broken checkpoint
	Reason     string // what is wrong with it
}

func (p *Problem) Error() string {
	if p.Seq > 0 {
		return fmt.Sprintf("record %d: %s", p.Seq, p.Reason)
	}
	return fmt.Sprintf("checkpoint at size %d: %s", p.Checkpoint, p.Reason)
}

// Verify recomputes the log's tree from its stored records and checks it against
// everything stored: every stored hash, and every checkpoint (its signature by one of
// verifierKeys, its root against the recomputed tree at its size, and its consistency
// with the previous checkpoint). It stops at the first broken record or checkpoint, in
// log order, and returns it as a *Problem; other errors are the store's. progress, when
// not nil, is called after each chunk of records.
func Verify(ctx context.Context, store Store, verifierKeys []string, progress func(done, total int64)) (Report, error) {
	return VerifyWith(ctx, store, verifierKeys, VerifyOptions{Progress: progress})
}

// VerifyWith is Verify with options: resuming after a verified checkpoint, the number
// of workers. On a Scanner it streams: its memory does not grow with the log.
func VerifyWith(ctx context.Context, store Store, verifierKeys []string, opts VerifyOptions) (Report, error) {
	vs, err := verifiers(verifierKeys)
	if err != nil {
		return Report{}, fault.Invalidf("verifier_key", "%v", err)
	}
	total, err := store.Size(ctx)
	if err != nil {
		return Report{}, err
	}
	v := &verifier{ctx: ctx, store: store, vs: vs, rep: Report{Size: total}}
	if opts.From != "" {
		if err := v.resume(opts.From); err != nil {
			return v.rep, err
		}
	}
	err = v.run(opts)
	v.rep.Root, _ = tlog.TreeHash(v.rep.Records, &v.front)
	return v.rep, err
}

// resume starts after the checkpoint note: the tree's frontier at its size is read
// from the store and must hash to its signed root.
func (v *verifier) resume(note string) error {
	size, root, err := openCheckpoint(note, v.vs)
	if err != nil {
		return fault.Invalidf("from", "the checkpoint to resume from: %v", err)
	}
	if size > v.rep.Size {
		return &Problem{Checkpoint: size, Reason: fmt.Sprintf("the log holds only %d records", v.rep.Size)}
	}
	if err := v.front.load(size, storeHashes{v.ctx, v.store}); err != nil {
		return &Problem{Checkpoint: size, Reason: fmt.Sprintf("the stored tree at this size cannot be read: %v", err)}
	}
	if got, err := tlog.TreeHash(size, &v.front); err != nil || got != root {
		return &Problem{Checkpoint: size, Reason: "the stored tree at this size does not have the root of the checkpoint resumed from"}
	}
	v.rep.From, v.rep.Records, v.rep.Last = size, size, note
	v.cpAfter = size
	return nil
}

// verifier is the state of one Verify run.
type verifier struct {
	ctx   context.Context
	store Store
	vs    note.Verifiers
	rep   Report
	front frontier

	cps     []StoredCheckpoint // the next checkpoints, by size
	cpAfter int64
	cpEnd   bool

	hashBuf []tlog.Hash // a record's stored hashes (scan)
}

func (v *verifier) run(opts VerifyOptions) error {
	progress := opts.Progress
	if s, ok := v.store.(Scanner); ok {
		if err := v.scan(s, opts.Workers, opts.Chunk, progress); err != nil {
			return err
		}
	}
	for v.rep.Records < v.rep.Size {
		if err := v.ctx.Err(); err != nil {
			return err
		}
		if err := v.chunk(); err != nil {
			return err
		}
		if progress != nil {
			progress(v.rep.Records, v.rep.Size)
		}
	}
	c, ok, err := v.peek()
	if err != nil || !ok {
		return err
	}
	// A checkpoint past the records checked is signed after Verify began, on a live
	// log, unless the log does not hold its records.
	size, err := v.store.Size(v.ctx)
	if err != nil {
		return err
	}
	if c.Size > size {
		return &Problem{Checkpoint: c.Size, Reason: fmt.Sprintf("the log holds only %d records", size)}
	}
	return nil
}

// chunk checks the next records and the checkpoints they complete.
func (v *verifier) chunk() error {
	next := v.rep.Records + 1
	entries, err := v.store.Records(v.ctx, v.rep.Records, verifyChunk)
	if err != nil {
		return err
	}
	for i, e := range entries {
		if e.Seq != next+int64(i) || e.Seq > v.rep.Size { // a gap, or appended since Verify began
			entries = entries[:i]
			break
		}
	}
	if len(entries) == 0 {
		return &Problem{Seq: next, Reason: "missing"}
	}
	from := tlog.StoredHashIndex(0, next-1)
	indexes := make([]int64, tlog.StoredHashCount(entries[len(entries)-1].Seq)-from)
	for i := range indexes {
		indexes[i] = from + int64(i)
	}
	stored, err := v.store.ReadHashes(v.ctx, indexes)
	if fault.KindOf(err) == fault.NotFound {
		return &Problem{Seq: next, Reason: "stored hashes of this record or the next ones are missing"}
	}
	if err != nil {
		return err
	}
	if len(stored) != len(indexes) {
		return fault.Wrap(fmt.Errorf("read %d stored hashes; want %d", len(stored), len(indexes)), "verify the audit log")
	}
	for _, e := range entries {
		n := tlog.StoredHashCount(e.Seq) - tlog.StoredHashIndex(0, e.Seq-1)
		if err := v.record(e, stored[:n]); err != nil {
			return err
		}
		stored = stored[n:]
		if err := v.checkpointsAt(e.Seq); err != nil {
			return err
		}
	}
	return nil
}

// record recomputes the stored hashes of one record and compares them with stored.
func (v *verifier) record(e Entry, stored []tlog.Hash) error {
	hashes, err := tlog.StoredHashes(e.Seq-1, e.Body, &v.front)
	if err != nil {
		return fault.Wrap(err, "recompute the audit tree")
	}
	if hashes[0] != stored[0] {
		return &Problem{Seq: e.Seq, Reason: "stored bytes do not hash to the tree's leaf"}
	}
	first := tlog.StoredHashIndex(0, e.Seq-1)
	for level := 1; level < len(hashes); level++ {
		if hashes[level] != stored[level] {
			k := (e.Seq - 1) >> level
			return &Problem{Seq: e.Seq, Reason: fmt.Sprintf(
				"stored hash %d (level %d, records %d to %d) differs from the recomputed tree",
				first+int64(level), level, k<<level+1, (k+1)<<level)}
		}
	}
	// The tree binds the bytes to their position; the seq the bytes state must agree.
	// Seq is the first field of the canonical encoding, so a prefix tells.
	if !bytes.HasPrefix(e.Body, withSeq([]byte(seqlessPrefix+","), e.Seq)) {
		return &Problem{Seq: e.Seq, Reason: "stored bytes do not begin with this seq"}
	}
	v.front.add(e.Seq-1, hashes)
	v.rep.Records = e.Seq
	return nil
}

// checkpointsAt checks the checkpoint of size, if there is one.
func (v *verifier) checkpointsAt(size int64) error {
	for {
		c, ok, err := v.peek()
		if err != nil || !ok || c.Size > size {
			return err
		}
		if err := v.checkpoint(c); err != nil {
			return err
		}
		v.cps = v.cps[1:]
	}
}

func (v *verifier) checkpoint(c StoredCheckpoint) error {
	size, root, err := openCheckpoint(c.Note, v.vs)
	if err != nil {
		return &Problem{Checkpoint: c.Size, Reason: err.Error()}
	}
	if size != c.Size {
		return &Problem{Checkpoint: c.Size, Reason: fmt.Sprintf("the note is for size %d", size)}
	}
	want, err := tlog.TreeHash(size, &v.front)
	if err != nil {
		return fault.Wrap(err, "recompute the audit tree")
	}
	if root != want {
		return &Problem{Checkpoint: c.Size, Reason: "root hash differs from the recomputed tree"}
	}
	// Consistent with every checkpoint before it, without a proof read from the store:
	// their roots are those of prefixes of one tree, recomputed from the records (after
	// a resumed run's frontier, which hashes to its checkpoint's root).
	v.rep.Checkpoints++
	v.rep.Last = c.Note
	return nil
}

// peek returns the next checkpoint to check, reading a page when needed.
func (v *verifier) peek() (StoredCheckpoint, bool, error) {
	if len(v.cps) == 0 && !v.cpEnd {
		page, err := v.store.Checkpoints(v.ctx, v.cpAfter, 100)
		if err != nil {
			return StoredCheckpoint{}, false, err
		}
		if len(page) == 0 {
			v.cpEnd = true
		} else {
			v.cps, v.cpAfter = page, page[len(page)-1].Size
		}
	}
	if len(v.cps) == 0 {
		return StoredCheckpoint{}, false, nil
	}
	return v.cps[0], true, nil
}
