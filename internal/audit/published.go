package audit

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

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
//
// Beside it (CosignedPath) the log remembers the latest checkpoint each witness
// cosigned (AddCosignature writes it before taking the cosignature): Open and
// CheckCosigned compare the store with those too, and name the witness, who holds the
// same checkpoint in its own folder and raises an alarm when the hub shows it a shorter
// or another log. After a restart, GET /audit/checkpoint serves them again.

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

// writePublished replaces the file path with note atomically (perm.Replace), unless
// the file holds a checkpoint as large already: replicas of the hub sharing the folder
// (beside a shared key file) each write it, and one that signed a smaller checkpoint a
// moment later than another's larger one must not step the file back. The read and the
// replacement are made under a lock of the file (withFileLock).
func writePublished(path, note string) error {
	size, _, err := treeText(note)
	if err != nil {
		return err
	}
	return withFileLock(path, func() error {
		cp, ok, err := ReadPublished(path)
		if err != nil {
			return err
		}
		if ok && cp.Size >= size {
			return nil
		}
		return perm.Replace(path, []byte(note))
	})
}

// checkPublished refuses a store that is shorter than the checkpoint remembered in path,
// or than one a witness cosigned, or whose tree at that size differs: records
// acknowledged, signed and published, then lost or rewritten. It returns the cosigned
// checkpoints remembered. No file: nothing to compare with (a first start).
func checkPublished(ctx context.Context, store Store, path string) ([]Cosigned, error) {
	cp, ok, err := ReadPublished(path)
	if err != nil {
		return nil, err
	}
	if ok {
		if err := compareStore(ctx, store, cp, publishedAs(path)); err != nil {
			return nil, err
		}
	}
	cs, err := readCosigned(CosignedPath(path))
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if err := compareCosigned(ctx, store, c, path); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

func publishedAs(path string) string { return fmt.Sprintf("published (remembered in %s)", path) }

// compareCosigned compares the store with the checkpoint c a witness cosigned.
func compareCosigned(ctx context.Context, store Store, c Cosigned, published string) error {
	size, root, err := treeText(c.Note)
	if err != nil {
		return fmt.Errorf("%s: the checkpoint cosigned by %s cannot be read: %v", CosignedPath(published), c.Witness, err)
	}
	as := fmt.Sprintf("cosigned by the witness %s (remembered in %s; the witness keeps it too, and raises an alarm on a shorter or another log)", c.Witness, CosignedPath(published))
	return compareStore(ctx, store, Checkpoint{Size: size, Root: root, Note: c.Note}, as)
}

// compareStore reports, as a *Problem, what the store lacks of the checkpoint cp,
// described by as (published, or cosigned by a witness, and where it is remembered).
func compareStore(ctx context.Context, store Store, cp Checkpoint, as string) error {
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
			"%s but the store holds %d records and %s: records %d to %d are missing; restore them (a backup of the store) — the hub does not continue a shorter log, nor reuse their numbers",
			as, size, latest, size+1, cp.Size)}
	}
	root, err := tlog.TreeHash(cp.Size, storeHashes{ctx, store})
	if fault.KindOf(err) == fault.NotFound {
		return &Problem{Checkpoint: cp.Size, Reason: fmt.Sprintf("%s but the store lacks stored hashes of its first %d records", as, cp.Size)}
	}
	if err != nil {
		return fault.Unavailablef(err, "read the audit log's tree")
	}
	if root != cp.Root {
		return &Problem{Checkpoint: cp.Size, Reason: fmt.Sprintf(
			"%s but the store's records 1 to %d do not hash to its root: the log was rewritten", as, cp.Size)}
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
	return cp, ok, compareStore(ctx, store, cp, publishedAs(path))
}

// CheckCosigned checks the store against the checkpoints witnesses cosigned, remembered
// beside the published one (path is Config.Published), and the hub's signature of each
// by one of verifierKeys: `crossroads audit verify` runs it after CheckPublished. It
// returns them, largest first; none when there is no file.
func CheckCosigned(ctx context.Context, store Store, path string, verifierKeys []string) ([]Cosigned, error) {
	cs, err := readCosigned(CosignedPath(path))
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if _, err := OpenCheckpoint(c.Note, verifierKeys...); err != nil {
			return cs, &Problem{Checkpoint: c.Size, Reason: fmt.Sprintf("cosigned by %s, remembered in %s: %v", c.Witness, CosignedPath(path), err)}
		}
		if err := compareCosigned(ctx, store, c, path); err != nil {
			return cs, err
		}
	}
	return cs, nil
}

// CosignedPath is the file where a log whose published checkpoint is remembered in
// published remembers what witnesses cosigned.
func CosignedPath(published string) string { return published + "-cosigned" }

// readCosigned reads the cosigned checkpoints remembered in path, largest first; none
// when there is no file.
func readCosigned(path string) ([]Cosigned, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var cs []Cosigned
	if err := json.Unmarshal(b, &cs); err != nil {
		return nil, fmt.Errorf("%s does not hold cosigned checkpoints: %v", path, err)
	}
	slices.SortFunc(cs, func(a, b Cosigned) int { return cmp.Compare(b.Size, a.Size) })
	return cs, nil
}

// rememberCosigned adds cs to the cosigned checkpoints remembered in path, each
// replacing its witness's only when larger, under a lock of the file: replicas of the
// hub sharing the folder each add what was handed to them, and none steps another's
// back.
func rememberCosigned(path string, cs []Cosigned) error {
	return withFileLock(path, func() error {
		old, err := readCosigned(path)
		if err != nil {
			return err
		}
		byWitness := map[string]Cosigned{}
		for _, c := range old {
			if _, ok := byWitness[c.Witness]; !ok { // largest first
				byWitness[c.Witness] = c
			}
		}
		changed := false
		for _, c := range cs {
			if prev, ok := byWitness[c.Witness]; !ok || prev.Size < c.Size {
				byWitness[c.Witness], changed = c, true
			}
		}
		if !changed {
			return nil
		}
		all := slices.Collect(maps.Values(byWitness))
		slices.SortFunc(all, func(a, b Cosigned) int { return strings.Compare(a.Witness, b.Witness) })
		b, err := json.MarshalIndent(all, "", "  ")
		if err != nil {
			return err
		}
		return perm.Replace(path, append(b, '\n'))
	})
}

// withFileLock runs fn holding an exclusive lock of path (on the file path + ".lock",
// made if missing), waiting for it: the files the log remembers outside its store are
// read, compared and replaced by every replica of the hub that shares their folder.
// Where flock is missing (lock_other.go) it runs fn without a lock.
func withFileLock(path string, fn func() error) error {
	if err := perm.MkdirAll(filepath.Dir(path)); err != nil {
		return err
	}
	f, err := perm.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := waitLockFile(f); err != nil {
		return fmt.Errorf("lock %s: %w", path, err)
	}
	return fn()
}
