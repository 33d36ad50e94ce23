package audit

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Evidence proves that a record is in the log, to anyone holding the hub's verifier key
// and nothing else: the record's bytes as stored, a signed checkpoint, and the proof
// that the record is leaf Seq-1 of the checkpoint's tree. In JSON, Record is base64 (the
// exact bytes hashed) and Proof a list of base64 hashes.
type Evidence struct {
	Seq        int64            `json:"seq"`
	Record     []byte           `json:"record"`
	Proof      tlog.RecordProof `json:"proof"`
	Checkpoint string           `json:"checkpoint"` // the signed note
}

// Evidence returns the evidence of record seq against the latest checkpoint, signing a
// checkpoint first if the latest one does not cover seq yet.
func (l *Log) Evidence(ctx context.Context, seq int64) (Evidence, error) {
	if err := l.sync(ctx); err != nil {
		return Evidence{}, err
	}
	if seq < 1 || seq > l.head.Load().size {
		return Evidence{}, fault.NotFoundf("audit record %d not found", seq)
	}
	l.cpMu.Lock()
	cp := l.latest
	l.cpMu.Unlock()
	if cp.Size < seq {
		var err error
		if cp, err = l.checkpoint(ctx); err != nil {
			return Evidence{}, err
		}
	}
	entries, err := l.store.Records(ctx, seq-1, 1)
	if err != nil {
		return Evidence{}, err
	}
	if len(entries) != 1 || entries[0].Seq != seq {
		return Evidence{}, fault.Wrap(fmt.Errorf("record %d is missing from the store", seq), "read the audit log")
	}
	proof, err := tlog.ProveRecord(cp.Size, seq-1, storeHashes{ctx, l.store})
	if err != nil {
		return Evidence{}, fault.Wrap(err, "prove an audit record")
	}
	return Evidence{Seq: seq, Record: entries[0].Body, Proof: proof, Checkpoint: cp.Note}, nil
}

// VerifyEvidence checks ev offline: the checkpoint is signed by one of verifierKeys (the
// keys the hub published, as VerifierKey formats them), the record is for seq ev.Seq,
// and the proof leads from the record's hash to the checkpoint's root. It returns the
// record, which can then be trusted.
func VerifyEvidence(ev Evidence, verifierKeys ...string) (Record, error) {
	vs, err := verifiers(verifierKeys)
	if err != nil {
		return Record{}, err
	}
	size, root, err := openCheckpoint(ev.Checkpoint, vs)
	if err != nil {
		return Record{}, fmt.Errorf("checkpoint: %v", err)
	}
	if ev.Seq < 1 || ev.Seq > size {
		return Record{}, fmt.Errorf("record %d: not in the checkpoint of size %d", ev.Seq, size)
	}
	if err := tlog.CheckRecord(ev.Proof, size, root, ev.Seq-1, tlog.RecordHash(ev.Record)); err != nil {
		return Record{}, fmt.Errorf("record %d: not in the tree of the checkpoint at size %d", ev.Seq, size)
	}
	r, err := decode(ev.Record)
	if err != nil {
		return Record{}, fmt.Errorf("record %d: not a record: %v", ev.Seq, err)
	}
	if r.Seq != ev.Seq {
		return Record{}, fmt.Errorf("record %d: the record says seq %d", ev.Seq, r.Seq)
	}
	return r, nil
}

// EvidenceFor returns the evidence of record seq to the institution that made the
// exchange, and refuses it (Forbidden) to any other: records name persons, and an
// institution may hold the proof of its own exchanges only.
func (l *Log) EvidenceFor(ctx context.Context, seq int64, institution string) (Evidence, error) {
	ev, err := l.Evidence(ctx, seq)
	if err != nil {
		return Evidence{}, err
	}
	r, err := decode(ev.Record)
	if err != nil {
		return Evidence{}, fault.Wrap(fmt.Errorf("record %d: %v", seq, err), "read the audit log")
	}
	if institution == "" || r.Institution != institution {
		return Evidence{}, fault.Forbiddenf("audit record %d is not an exchange of institution %s", seq, institution)
	}
	return ev, nil
}
