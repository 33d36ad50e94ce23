package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/perm"
)

// The log remembers, in a file outside its store (Config.Published), the largest
// checkpoint it signed: its signed note, replaced atomically before the checkpoint is
// saved in the store and published. Whoever can write the store (restore an old backup,
// delete the tail of the log together with its checkpoints, or the whole log) cannot
// make the log shorter without the hub noticing: Open and CheckPublished compare the
// store with that checkpoint. The file holds hashes only.

// ReadPublished returns the checkpoint remembered in the file path, without checking
// its signature (the log reads back its own file; CheckPublished checks it). ok is
// false when there is no file.
func ReadPublished(path string) (cp Checkpoint, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Checkpoint{}, false, nil
	}
	if err != nil {
		return Checkpoint{}, false, err
	}
	size, root, err := treeText(string(b))
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("%s does not hold a checkpoint: %v", path, err)
	}
	return Checkpoint{Size: size, Root: root, Note: string(b)}, true, nil
}

// writePublished replaces the file path with note atomically (perm.Replace).
func writePublished(path, note string) error {
	if err := perm.MkdirAll(filepath.Dir(path)); err != nil {
		return err
	}
	return perm.Replace(path, []byte(note))
}

// checkPublished refuses a store that is shorter than the checkpoint remembered in path
// or whose tree at its size differs: records acknowledged, signed and published, then
// lost or rewritten. No file: nothing to compare with (a first start).
func checkPublished(ctx context.Context, store Store, path string) error {
	cp, ok, err := ReadPublished(path)
	if err != nil || !ok {
		return err
	}
	return compareStore(ctx, store, cp, path)
}

// compareStore reports, as a *Problem, what the store lacks of the published checkpoint cp.
func compareStore(ctx context.Context, store Store, cp Checkpoint, path string) error {
	size, err := store.Size(ctx)
	if err != nil {
		return fault.Unavailablef(err, "read the audit log's size")
	}
	if size < cp.Size {
		latest := "no checkpoint"
		if sc, err := store.LatestCheckpoint(ctx); err == nil {
			latest = fmt.Sprintf("its latest checkpoint at size %d", sc.Size)
		}
		return &Problem{Checkpoint: cp.Size, Reason: fmt.Sprintf(
			"published (remembered in %s) but the store holds %d records and %s: records %d to %d are missing; restore them (a backup of the store) — the hub does not continue a shorter log, nor reuse their numbers",
			path, size, latest, size+1, cp.Size)}
	}
	root, err := tlog.TreeHash(cp.Size, storeHashes{ctx, store})
	if fault.KindOf(err) == fault.NotFound {
		return &Problem{Checkpoint: cp.Size, Reason: fmt.Sprintf("published (remembered in %s) but the store lacks stored hashes of its first %d records", path, cp.Size)}
	}
	if err != nil {
		return fault.Unavailablef(err, "read the audit log's tree")
	}
	if root != cp.Root {
		return &Problem{Checkpoint: cp.Size, Reason: fmt.Sprintf(
			"published (remembered in %s) but the store's records 1 to %d do not hash to its root: the log was rewritten", path, cp.Size)}
	}
	return nil
}

// CheckPublished checks the store against the checkpoint remembered in path, as Open
// does, and also the checkpoint's signature by one of verifierKeys: `crossroads audit
// verify` runs it after Verify. ok is false when there is no file.
func CheckPublished(ctx context.Context, store Store, path string, verifierKeys []string) (cp Checkpoint, ok bool, err error) {
	cp, ok, err = ReadPublished(path)
	if err != nil || !ok {
		return cp, ok, err
	}
	if _, err := OpenCheckpoint(cp.Note, verifierKeys...); err != nil {
		return cp, ok, &Problem{Checkpoint: cp.Size, Reason: fmt.Sprintf("remembered in %s: %v", path, err)}
	}
	return cp, ok, compareStore(ctx, store, cp, path)
}
