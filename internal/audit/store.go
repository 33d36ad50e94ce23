package audit

import (
	"context"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Store is what the log needs from storage. The hub's implementation is in
// internal/sqlstore (SQLite and PostgreSQL); audittest.Run is its contract suite.
// The log writes through one goroutine; reads may run concurrently with it.
type Store interface {
	// Append stores a batch in one transaction, all of it or nothing, and returns only
	// once it has committed. It refuses (Conflict) a batch whose First is not one more
	// than the last stored seq. It must not keep the batch's slices.
	Append(ctx context.Context, b Batch) error

	// Size returns the last stored seq, 0 for an empty log.
	Size(ctx context.Context) (int64, error)

	// ReadHashes returns the stored hashes at indexes, in order; a missing index is an
	// error. Indexes are often one contiguous run (Verify), or a few dozen (proofs).
	ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)

	// Records returns up to limit stored records with seq > after, in seq order.
	Records(ctx context.Context, after int64, limit int) ([]Entry, error)

	// ByPerson returns up to limit records concerning person with seq > after, in seq
	// order, from the person index (never a scan). A store may leave out of its index
	// persons that are not person numbers; it may also match a person number in any of
	// its written forms.
	ByPerson(ctx context.Context, person string, after int64, limit int) ([]Entry, error)

	// SaveCheckpoint stores a signed checkpoint; a second one of the same size is a
	// Conflict.
	SaveCheckpoint(ctx context.Context, c StoredCheckpoint) error

	// Checkpoints returns up to limit checkpoints with Size > after, by size.
	Checkpoints(ctx context.Context, after int64, limit int) ([]StoredCheckpoint, error)

	// LatestCheckpoint returns the checkpoint of the largest size, or a NotFound fault.
	LatestCheckpoint(ctx context.Context) (StoredCheckpoint, error)

	// SaveCosigned keeps c as its witness's latest cosigned checkpoint, unless one of
	// its size or larger is kept already (kept is then false): of two saved at once,
	// the larger stays. The log checks c before (Log.AddCosignature).
	SaveCosigned(ctx context.Context, c Cosigned) (kept bool, err error)

	// Cosigned returns the latest cosigned checkpoint of each witness, by witness name.
	Cosigned(ctx context.Context) ([]Cosigned, error)
}

// Batch is what one group commit writes.
type Batch struct {
	First   int64       // the seq of Records[0]
	Records [][]byte    // canonical encodings of seqs First, First+1, …
	Hashes  []tlog.Hash // the new stored hashes, at indexes FirstHash(), FirstHash()+1, …
	Persons []PersonSeq // person index rows
}

// FirstHash is the stored-hash index of b.Hashes[0]: tlog stores the hashes of record
// n (leaf n-1) right after those of the records before it.
func (b Batch) FirstHash() int64 { return tlog.StoredHashIndex(0, b.First-1) }

// PersonSeq is one row of the person index.
type PersonSeq struct {
	Person string
	Seq    int64
}

// Entry is a stored record: its seq and its canonical bytes.
type Entry struct {
	Seq  int64
	Body []byte
}

// StoredCheckpoint is a signed checkpoint as stored.
type StoredCheckpoint struct {
	Size    int64
	Note    string // the signed note (see Checkpoint)
	Created time.Time
}
