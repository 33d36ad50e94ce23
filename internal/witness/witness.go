// Package witness is a checkpoint witness of a hub's audit log: a small process anyone
// may run (another institution, the data-protection authority) that follows the hub's
// signed checkpoints, checks that each extends the last one it saw with a consistency
// proof, and cosigns it with its own key (the note format holds several signatures). It
// keeps its key and the last checkpoint it cosigned in a folder of its own, so that a
// hub that rolls its log back, or shows it two different logs (a fork), is caught even
// across restarts of either: the witness then raises an Alarm and cosigns nothing more.
//
// The witness reaches the hub through a Source (over HTTP in cmd/crossroads); it
// imports no network code.
package witness

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/note"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/perm"
)

// Source is the hub as the witness sees it.
type Source interface {
	// Checkpoint returns the hub's latest signed checkpoint note.
	Checkpoint(ctx context.Context) (string, error)
	// Consistency returns the proof that the tree at size to extends the tree at from.
	Consistency(ctx context.Context, from, to int64) (audit.Consistency, error)
}

// Alarm is a hub caught rolling its log back or forking it; the witness keeps the
// checkpoint it saw last, and Observe keeps returning the alarm for anything that does
// not extend it.
type Alarm struct {
	Kind     string // "rollback" or "fork"
	Seen     int64  // the size of the last checkpoint cosigned
	Got      int64  // the size of the checkpoint refused
	Evidence string // the two signed notes, to show to whoever must know
	Reason   string
}

func (a *Alarm) Error() string {
	return fmt.Sprintf("ALARM %s: the hub's checkpoint at size %d does not extend the one at size %d the witness cosigned: %s", a.Kind, a.Got, a.Seen, a.Reason)
}

// Witness follows one hub. It is safe for concurrent use.
type Witness struct {
	dir     string
	signer  note.Signer
	vkey    string   // the witness's verifier key
	hubKeys []string // the hub's verifier keys

	mu   sync.Mutex
	last audit.Checkpoint // the last checkpoint cosigned; Size 0 before the first
}

// Files of the witness's folder.
const (
	keyFile   = "witness.key"    // its private key, note format
	vkeyFile  = "witness.vkey"   // its verifier key, to publish
	stateFile = "cosigned.note"  // the last checkpoint cosigned, with every signature
	alarmFile = "alarm.evidence" // the two notes of the last alarm
)

// Open opens (creating) the witness's folder dir: its key, named name on a first start,
// and the last checkpoint it cosigned. hubKeys are the hub's verifier keys.
func Open(dir, name string, hubKeys []string) (*Witness, error) {
	if len(hubKeys) == 0 {
		return nil, errors.New("the witness needs the hub's verifier key")
	}
	if err := perm.MkdirAll(dir); err != nil {
		return nil, err
	}
	skey, vkey, err := loadKey(dir, name)
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("the witness key in %s: %v", dir, err)
	}
	w := &Witness{dir: dir, signer: signer, vkey: vkey, hubKeys: hubKeys}
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if w.last, err = audit.OpenCheckpoint(string(b), vkey); err != nil {
			return nil, fmt.Errorf("the witness's last cosigned checkpoint (%s): %v", filepath.Join(dir, stateFile), err)
		}
	}
	return w, nil
}

// loadKey reads the witness's key, or makes one on a first start.
func loadKey(dir, name string) (skey, vkey string, err error) {
	b, err := os.ReadFile(filepath.Join(dir, keyFile))
	if err == nil {
		v, verr := os.ReadFile(filepath.Join(dir, vkeyFile))
		return strings.TrimSpace(string(b)), strings.TrimSpace(string(v)), verr
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", "", err
	}
	if skey, vkey, err = note.GenerateKey(rand.Reader, name); err != nil {
		return "", "", fmt.Errorf("make the witness key %q: %v", name, err)
	}
	if err := perm.Replace(filepath.Join(dir, vkeyFile), []byte(vkey+"\n")); err != nil {
		return "", "", err
	}
	return skey, vkey, perm.Replace(filepath.Join(dir, keyFile), []byte(skey+"\n"))
}

// VerifierKey is the witness's public key, which checks its cosignatures.
func (w *Witness) VerifierKey() string { return w.vkey }

// Last returns the last checkpoint the witness cosigned (Size 0: none yet).
func (w *Witness) Last() audit.Checkpoint {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

// Observe reads the hub's latest checkpoint and, if it extends the last one cosigned
// (proved by a consistency proof from src) or is the first, cosigns it, keeps it and
// returns the cosigned note. A checkpoint smaller than the last, or not consistent with
// it, is an *Alarm; other errors (the hub unreachable, a bad signature) are returned
// as they are and change nothing.
func (w *Witness) Observe(ctx context.Context, src Source) (string, error) {
	msg, err := src.Checkpoint(ctx)
	if err != nil {
		return "", err
	}
	cp, err := audit.OpenCheckpoint(msg, w.hubKeys...)
	if err != nil {
		return "", fmt.Errorf("the hub's checkpoint: %v", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last.Size > 0 {
		if err := w.extends(ctx, src, msg, cp); err != nil {
			return "", err
		}
	}
	n, err := note.Open([]byte(msg), note.VerifierList(mustVerifiers(w.hubKeys)...))
	if err != nil {
		return "", err
	}
	cosigned, err := note.Sign(n, w.signer)
	if err != nil {
		return "", fmt.Errorf("cosign: %v", err)
	}
	if err := perm.Replace(filepath.Join(w.dir, stateFile), cosigned); err != nil {
		return "", fmt.Errorf("keep the cosigned checkpoint: %v", err)
	}
	w.last = audit.Checkpoint{Size: cp.Size, Root: cp.Root, Note: string(cosigned)}
	return string(cosigned), nil
}

// extends checks that the checkpoint msg (cp) extends the last one cosigned.
func (w *Witness) extends(ctx context.Context, src Source, msg string, cp audit.Checkpoint) error {
	alarm := func(kind, reason string) error {
		a := &Alarm{Kind: kind, Seen: w.last.Size, Got: cp.Size, Reason: reason, Evidence: w.last.Note + "\n" + msg}
		if err := perm.Replace(filepath.Join(w.dir, alarmFile), []byte(a.Evidence)); err != nil {
			return fmt.Errorf("%v (and keeping its evidence failed: %v)", a, err)
		}
		return a
	}
	switch {
	case cp.Size < w.last.Size:
		return alarm("rollback", "the log is shorter")
	case cp.Size == w.last.Size && cp.Root != w.last.Root:
		return alarm("fork", "two trees of one size")
	case cp.Size == w.last.Size:
		return nil
	}
	proof, err := src.Consistency(ctx, w.last.Size, cp.Size)
	if err != nil {
		return fmt.Errorf("the consistency proof from %d to %d: %v", w.last.Size, cp.Size, err)
	}
	keys := append([]string{w.vkey}, w.hubKeys...)
	if _, _, err := audit.VerifyConsistency(w.last.Note, msg, proof.Proof, keys...); err != nil {
		return alarm("fork", err.Error())
	}
	return nil
}

func mustVerifiers(keys []string) []note.Verifier {
	var vs []note.Verifier
	for _, k := range keys {
		if v, err := note.NewVerifier(k); err == nil {
			vs = append(vs, v)
		}
	}
	return vs
}
