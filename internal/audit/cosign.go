package audit

import (
	"context"
	"errors"
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
// Cosignatures. It refuses (Invalid) a note whose text is not a checkpoint of this log
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
	for _, s := range n.Sigs {
		c := Cosigned{Witness: s.Name, Size: size, Note: msg}
		if old, ok := l.cosigned[s.Name]; !ok || old.Size <= size {
			l.cosigned[s.Name] = c
		}
		last = c
	}
	return last, nil
}

// Cosignatures returns the latest checkpoint each witness cosigned, by witness name.
func (l *Log) Cosignatures() []Cosigned {
	l.cosMu.Lock()
	defer l.cosMu.Unlock()
	out := make([]Cosigned, 0, len(l.cosigned))
	for _, c := range l.cosigned {
		out = append(out, c)
	}
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
