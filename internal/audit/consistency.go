package audit

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Consistency proves that the log's tree at size To extends its tree at size From: the
// records of the first were neither changed nor removed when the second was signed.
// It holds hashes only, so anyone may ask for it. Checkpoint is the signed note of size
// To when the log has one (always when To was not asked for: the latest checkpoint).
type Consistency struct {
	From       int64          `json:"from"`
	To         int64          `json:"to"`
	Proof      tlog.TreeProof `json:"proof"`
	Checkpoint string         `json:"checkpoint,omitempty"`
}

// Consistency returns the proof that the tree at size to extends the tree at size from;
// to 0 means the latest checkpoint (never signed on demand: anyone may ask, and the
// checkpointer signs every few seconds). Sizes outside 1 ≤ from ≤ to ≤ the log's size
// are Invalid.
func (l *Log) Consistency(ctx context.Context, from, to int64) (Consistency, error) {
	if err := l.sync(ctx); err != nil {
		return Consistency{}, err
	}
	if to == 0 {
		cp, err := l.Checkpoint(ctx)
		if err != nil {
			return Consistency{}, err
		}
		to = cp.Size
	}
	return ProveConsistency(ctx, l.store, from, to)
}

// ProveConsistency reads the consistency proof between the sizes from and to from a
// store, with the stored checkpoint of size to if there is one. The CLI proves from a
// store this way, without a running hub.
func ProveConsistency(ctx context.Context, store Store, from, to int64) (Consistency, error) {
	size, err := store.Size(ctx)
	if err != nil {
		return Consistency{}, fault.Unavailablef(err, "read the audit log's size")
	}
	switch {
	case from < 1:
		return Consistency{}, fault.Invalidf("from", "must be a tree size from 1")
	case to < from:
		return Consistency{}, fault.Invalidf("to", "must be at least from (%d)", from)
	case to > size:
		return Consistency{}, fault.Invalidf("to", "must be at most the log's size (%d)", size)
	}
	proof, err := tlog.ProveTree(to, from, storeHashes{ctx, store})
	if err != nil {
		return Consistency{}, fault.Wrap(err, "prove the audit log's consistency")
	}
	c := Consistency{From: from, To: to, Proof: proof}
	cps, err := store.Checkpoints(ctx, to-1, 1)
	if err != nil {
		return Consistency{}, fault.Unavailablef(err, "read the audit checkpoints")
	}
	if len(cps) == 1 && cps[0].Size == to {
		c.Checkpoint = cps[0].Note
	}
	return c, nil
}

// VerifyConsistency checks offline that the signed checkpoint newer extends the signed
// checkpoint older, with proof (from ProveConsistency or GET /audit/consistency): both
// are signed by one of verifierKeys and the proof leads from the older root to the
// newer one. Two checkpoints of one size must have the same root. It returns the two
// sizes. An error says which checkpoint fails, or that the log was rewritten between
// them (a fork, or records removed and others written in their place).
func VerifyConsistency(older, newer string, proof tlog.TreeProof, verifierKeys ...string) (from, to int64, err error) {
	vs, err := verifiers(verifierKeys)
	if err != nil {
		return 0, 0, err
	}
	from, oldRoot, err := openCheckpoint(older, vs)
	if err != nil {
		return 0, 0, fmt.Errorf("older checkpoint: %v", err)
	}
	to, newRoot, err := openCheckpoint(newer, vs)
	if err != nil {
		return 0, 0, fmt.Errorf("newer checkpoint: %v", err)
	}
	switch {
	case to < from:
		return from, to, fmt.Errorf("the newer checkpoint (size %d) is smaller than the older one (size %d): the log was rolled back", to, from)
	case to == from && oldRoot != newRoot:
		return from, to, fmt.Errorf("two checkpoints of size %d with different roots: the log was rewritten", from)
	case to == from:
		return from, to, nil
	case from == 0:
		return from, to, nil // the empty tree is extended by every tree
	}
	if err := tlog.CheckTree(proof, to, newRoot, from, oldRoot); err != nil {
		return from, to, fmt.Errorf("the checkpoint at size %d does not extend the one at size %d: the records of the older one were changed or removed", to, from)
	}
	return from, to, nil
}

// OpenCheckpoint checks that note is a checkpoint of this log signed by one of
// verifierKeys and returns its size and root.
func OpenCheckpoint(note string, verifierKeys ...string) (Checkpoint, error) {
	vs, err := verifiers(verifierKeys)
	if err != nil {
		return Checkpoint{}, err
	}
	size, root, err := openCheckpoint(note, vs)
	if err != nil {
		return Checkpoint{}, err
	}
	return Checkpoint{Size: size, Root: root, Note: note}, nil
}
