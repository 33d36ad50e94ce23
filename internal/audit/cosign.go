package audit

import (
	"context"
	"errors"

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
// expects (Config.Witnesses) and keeps it in the store as that witness's latest
// (Store.SaveCosigned), where every replica of the hub reads it (Cosignatures), and
// outside the store (CosignedPath, when Config.Published is set), so that Open refuses
// a store shorter than it. It refuses (Invalid) a note whose text is not a checkpoint
// of this log (its size beyond the stored log, or another root at that size) or that is
// not a signed note at all, and (Forbidden) one that no expected witness signed: deny
// by default.
func (l *Log) AddCosignature(ctx context.Context, msg string) (Cosigned, error) {
	known := l.witnesses
	if known == nil {
		known = note.VerifierList()
	}
	n, err := note.Open([]byte(msg), known)
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case err != nil && !errors.As(err, &unverified) && !errors.As(err, &invalid):
		return Cosigned{}, fault.Invalidf("note", "is not a signed note (a checkpoint a witness cosigned): %v", err)
	case l.witnesses == nil:
		return Cosigned{}, fault.Forbiddenf("this hub expects no witness")
	case err != nil:
		return Cosigned{}, fault.Forbiddenf("the note is not signed by a witness this hub expects")
	}
	size, root, err := parseTree(n.Text)
	if err != nil {
		return Cosigned{}, fault.Invalidf("note", "%v", err)
	}
	if err := l.sync(ctx); err != nil {
		return Cosigned{}, err
	}
	// The stored tree, not this replica's: another may have signed a larger checkpoint.
	h, err := l.sharedHead(ctx, l.head.Load())
	if err != nil {
		return Cosigned{}, err
	}
	if size < 1 || size > h.size {
		return Cosigned{}, fault.Invalidf("note", "the log has no tree of size %d", size)
	}
	got, err := tlog.TreeHash(size, storeHashes{ctx, l.store})
	if err != nil {
		return Cosigned{}, fault.Unavailablef(err, "read the audit log's tree")
	}
	if got != root {
		return Cosigned{}, fault.Invalidf("note", "the log's tree at size %d has another root", size)
	}
	cs := make([]Cosigned, 0, len(n.Sigs))
	for _, s := range n.Sigs {
		cs = append(cs, Cosigned{Witness: s.Name, Size: size, Note: msg})
	}
	if l.published != "" {
		// Remembered before it is taken: a witness never holds a cosignature the hub
		// would forget at its next start.
		if err := rememberCosigned(CosignedPath(l.published), cs); err != nil {
			return Cosigned{}, fault.Unavailablef(err, "remember the cosigned checkpoint")
		}
	}
	for _, c := range cs {
		if _, err := l.store.SaveCosigned(ctx, c); err != nil {
			return Cosigned{}, fault.Unavailablef(err, "keep the cosigned checkpoint")
		}
	}
	return cs[len(cs)-1], nil
}

// Cosignatures returns the latest checkpoint each witness cosigned, by witness name, as
// the store keeps them: those handed to any replica of the hub.
//
// Only those of the witnesses this log expects (Config.Witnesses) are returned, each
// checked against its key: the store is shared, and a replica started with other
// witnesses (a misconfiguration) must not make the others serve cosignatures they would
// refuse.
func (l *Log) Cosignatures(ctx context.Context) ([]Cosigned, error) {
	cs, err := l.store.Cosigned(ctx)
	if err != nil {
		return nil, fault.Unavailablef(err, "read the cosigned audit checkpoints")
	}
	if l.witnesses == nil {
		return nil, nil
	}
	out := cs[:0]
	for _, c := range cs {
		n, err := note.Open([]byte(c.Note), l.witnesses) // the hub's own signature is among the unverified
		if err != nil {
			continue
		}
		for _, s := range n.Sigs {
			if s.Name == c.Witness {
				out = append(out, c)
				break
			}
		}
	}
	return out, nil
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
