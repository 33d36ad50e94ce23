package audit

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Cosigned is a checkpoint of the log as a witness cosigned it: the note carries the
// hub's signature and the witness's.
type Cosigned struct {
	Witness string `json:"witness"` // the witness's key name
	Size    int64  `json:"size"`
	Note    string `json:"note"`
}

// AddCosignature takes a checkpoint note cosigned by one of the witnesses the log
// expects (Config.Witnesses) and keeps it as that witness's latest, served by
// Cosignatures and remembered outside the store (CosignedPath, when Config.Published
// is set), so that Open refuses a store shorter than it. It refuses (Invalid) a note whose text is not a checkpoint of this log
// (its size beyond the log, or another root at that size), and (Forbidden) one that no
// expected witness signed: deny by default.
func (l *Log) AddCosignature(ctx context.Context, msg string) (Cosigned, error) {
	if l.witnesses == nil {
		return Cosigned{}, fault.Forbiddenf("this hub expects no witness")
	}
	n, err := note.Open([]byte(msg), l.witnesses)
	if err != nil {
		return Cosigned{}, fault.Forbiddenf("the note is not signed by a witness this hub expects")
	}
	size, root, err := parseTree(n.Text)
	if err != nil {
		return Cosigned{}, fault.Invalidf("note", "%v", err)
	}
	if err := l.sync(ctx); err != nil {
		return Cosigned{}, err
	}
	if size < 1 || size > l.head.Load().size {
		return Cosigned{}, fault.Invalidf("note", "the log has no tree of size %d", size)
	}
	got, err := tlog.TreeHash(size, storeHashes{ctx, l.store})
	if err != nil {
		return Cosigned{}, fault.Unavailablef(err, "read the audit log's tree")
	}
	if got != root {
		return Cosigned{}, fault.Invalidf("note", "the log's tree at size %d has another root", size)
	}
	l.cosMu.Lock()
	defer l.cosMu.Unlock()
	var last Cosigned
	changed := map[string]Cosigned{}
	for _, s := range n.Sigs {
		c := Cosigned{Witness: s.Name, Size: size, Note: msg}
		if old, ok := l.cosigned[s.Name]; !ok || old.Size < size {
			changed[s.Name] = c
		}
		last = c
	}
	if len(changed) == 0 {
		return last, nil
	}
	if l.published != "" {
		// Remembered before it is taken: a witness never holds a cosignature the hub
		// would forget at its next start.
		all := maps.Clone(l.cosigned)
		maps.Copy(all, changed)
		if err := writeCosigned(CosignedPath(l.published), sortedCosigned(all)); err != nil {
			return Cosigned{}, fault.Unavailablef(err, "remember the cosigned checkpoint")
		}
	}
	maps.Copy(l.cosigned, changed)
	return last, nil
}

// Cosignatures returns the latest checkpoint each witness cosigned, by witness name.
func (l *Log) Cosignatures() []Cosigned {
	l.cosMu.Lock()
	defer l.cosMu.Unlock()
	return sortedCosigned(l.cosigned)
}

// sortedCosigned returns the checkpoints of m by witness name.
func sortedCosigned(m map[string]Cosigned) []Cosigned {
	out := slices.Collect(maps.Values(m))
	slices.SortFunc(out, func(a, b Cosigned) int { return strings.Compare(a.Witness, b.Witness) })
	return out
}

// witnessVerifiers parses Config.Witnesses; none is nil.
func witnessVerifiers(keys []string) (note.Verifiers, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	vs, err := verifiers(keys)
	if err != nil {
		return nil, errors.New("witness " + err.Error())
	}
	return vs, nil
}
