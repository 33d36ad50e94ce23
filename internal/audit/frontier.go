package audit

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// frontier holds, for each level of the tree, the most recently completed subtree. These
// are exactly the stored hashes tlog reads to append the next record (the left siblings
// of the new nodes) and to hash the whole tree (its maximal complete subtrees), so the
// writer and Verify never read hashes back from the store while appending.
type frontier struct {
	levels [64]struct {
		index int64
		hash  tlog.Hash
		ok    bool
	}
}

// ReadHashes implements tlog.HashReader over the frontier.
func (f *frontier) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		level, _ := tlog.SplitStoredHashIndex(x)
		if level >= len(f.levels) || !f.levels[level].ok || f.levels[level].index != x {
			return nil, fmt.Errorf("audit: stored hash %d is not on the tree's frontier", x)
		}
		out[i] = f.levels[level].hash
	}
	return out, nil
}

// add records the stored hashes of leaf n, as tlog.StoredHashes returned them: the leaf
// hash, then one hash per subtree the leaf completes, one level up each.
func (f *frontier) add(n int64, hashes []tlog.Hash) {
	base := tlog.StoredHashIndex(0, n)
	for level, h := range hashes {
		l := &f.levels[level]
		l.index, l.hash, l.ok = base+int64(level), h, true
	}
}

// load reads the frontier of a tree of size leaves from r.
func (f *frontier) load(size int64, r tlog.HashReader) error {
	*f = frontier{}
	var indexes []int64
	for level := 0; level < len(f.levels) && size>>level > 0; level++ {
		indexes = append(indexes, tlog.StoredHashIndex(level, size>>level-1))
	}
	hashes, err := r.ReadHashes(indexes)
	if err != nil {
		return err
	}
	if len(hashes) != len(indexes) {
		return fmt.Errorf("audit: read %d hashes; want %d", len(hashes), len(indexes))
	}
	for level, h := range hashes {
		l := &f.levels[level]
		l.index, l.hash, l.ok = indexes[level], h, true
	}
	return nil
}

// storeHashes is a tlog.HashReader over a Store.
type storeHashes struct {
	ctx   context.Context
	store Store
}

func (r storeHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	return r.store.ReadHashes(r.ctx, indexes)
}
