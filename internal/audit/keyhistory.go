package audit

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/crossroads-hub/crossroads/internal/perm"
)

// The log's key history: which key signed which checkpoints. A rotation of the hub's
// key (crossroads keys rotate) makes every checkpoint after it signed by the new key;
// evidence downloaded before it holds a checkpoint signed by the old one, which must
// stay verifiable, and by that key only for the checkpoints it signed: a key that leaks
// once retired must not vouch for a later tree. The log notes each change of key as it
// signs (KeyPeriod), remembers the history beside its published checkpoint
// (KeysPath), and GET /audit/checkpoint publishes it; VerifyEvidenceKeys checks a
// checkpoint against the key of its period.

// KeyPeriod is a key that signed the log's checkpoints, and which: those of sizes First
// to Last.
type KeyPeriod struct {
	// Key is the verifier key (VerifierKey), or only its name and key hash
	// ("name+hash") when the log does not know its public key (KeyHistory fills it in).
	Key   string    `json:"key"`
	First int64     `json:"first_size"`          // the size of the first checkpoint it signed
	Last  int64     `json:"last_size,omitempty"` // the size of the last; 0 while it is the key that signs
	From  time.Time `json:"from,omitzero"`       // when it signed its first (zero when unknown: an older log)
	Until time.Time `json:"until,omitzero"`      // when the next key signed its first
}

// Holds reports whether the period includes a checkpoint of size.
func (p KeyPeriod) Holds(size int64) bool {
	return size >= p.First && (p.Last == 0 || size <= p.Last)
}

// KeysPath is where a log whose published checkpoint is remembered in published keeps
// its key history.
func KeysPath(published string) string { return published + "-keys" }

// keyID returns "name+hash" of a verifier key or of such an id.
func keyID(key string) string {
	name, rest, _ := strings.Cut(key, "+")
	hash, _, _ := strings.Cut(rest, "+")
	return name + "+" + hash
}

func signerID(s note.Signer) string { return fmt.Sprintf("%s+%08x", s.Name(), s.KeyHash()) }

// signerKey is the verifier key of s when it is one of NewSigner's, else its id.
func signerKey(s note.Signer) string {
	if e, ok := s.(*ed25519Signer); ok {
		if k, err := VerifierKey(e.name, e.key.Public()); err == nil {
			return k
		}
	}
	return signerID(s)
}

// noteSigner returns the id ("name+hash") of the first signature of a signed note,
// without checking it (the log reads back its own checkpoints).
func noteSigner(msg string) (string, error) {
	i := strings.LastIndex(msg, "\n\n")
	if i < 0 {
		return "", errors.New("malformed note")
	}
	line, _, _ := strings.Cut(msg[i+2:], "\n")
	name, sig, ok := strings.Cut(strings.TrimPrefix(line, "— "), " ")
	b, err := base64.StdEncoding.DecodeString(sig)
	if !ok || err != nil || len(b) < 4 {
		return "", errors.New("malformed signature line")
	}
	return fmt.Sprintf("%s+%08x", name, binary.BigEndian.Uint32(b)), nil
}

// noteKey records, before checkpoint cp signed by signer is published, a change of the
// signing key: the period of the previous key ends at the previous checkpoint. l.cpMu is
// held.
func (l *Log) noteKey(signer note.Signer, cp Checkpoint) error {
	id := signerID(signer)
	if n := len(l.keys); n > 0 && keyID(l.keys[n-1].Key) == id {
		return nil
	}
	keys := append([]KeyPeriod(nil), l.keys...)
	if n := len(keys); n > 0 {
		keys[n-1].Last, keys[n-1].Until = l.latest.Size, cp.Time
	}
	keys = append(keys, KeyPeriod{Key: signerKey(signer), First: cp.Size, From: cp.Time})
	if err := l.saveKeys(keys); err != nil {
		return err
	}
	l.keys = keys
	return nil
}

// saveKeys replaces the key history's file (none without a published checkpoint's).
func (l *Log) saveKeys(keys []KeyPeriod) error {
	if l.published == "" {
		return nil
	}
	b, err := json.MarshalIndent(keys, "", "  ")
	if err != nil {
		return err
	}
	return perm.Replace(KeysPath(l.published), append(b, '\n'))
}

// loadKeys reads the key history remembered beside the published checkpoint; a log
// without one (a version before it) rebuilds it from its stored checkpoints, once.
func (l *Log) loadKeys(ctx context.Context) error {
	if l.published != "" {
		b, err := os.ReadFile(KeysPath(l.published))
		if err == nil {
			if err := json.Unmarshal(b, &l.keys); err != nil {
				return fmt.Errorf("%s: %v", KeysPath(l.published), err)
			}
			return nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	keys, err := storedKeyHistory(ctx, l.store)
	if err != nil {
		return err
	}
	if len(keys) > 0 {
		if err := l.saveKeys(keys); err != nil {
			return err
		}
	}
	l.keys = keys
	return nil
}

// storedKeyHistory reads every stored checkpoint and returns the periods of the keys
// that signed them (ids only: the notes do not hold the public keys).
func storedKeyHistory(ctx context.Context, store Store) ([]KeyPeriod, error) {
	var keys []KeyPeriod
	var after int64
	for {
		page, err := store.Checkpoints(ctx, after, 1000)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			return keys, nil
		}
		for _, c := range page {
			id, err := noteSigner(c.Note)
			if err != nil {
				return nil, fmt.Errorf("checkpoint at size %d: %v", c.Size, err)
			}
			if n := len(keys); n == 0 || keys[n-1].Key != id {
				if n > 0 {
					keys[n-1].Until = c.Created
				}
				keys = append(keys, KeyPeriod{Key: id, First: c.Size, From: c.Created})
			}
			keys[len(keys)-1].Last = c.Size
		}
		after = page[len(page)-1].Size
	}
}

// KeyHistory returns the keys that signed the log's checkpoints, oldest first, with the
// sizes of the checkpoints each signed; the last is the key that signs now (Last 0). A
// key known only by its id is given as the verifier key of known that has that id.
func (l *Log) KeyHistory(known []string) []KeyPeriod {
	l.cpMu.Lock()
	out := append([]KeyPeriod(nil), l.keys...)
	l.cpMu.Unlock()
	if n := len(out); n > 0 {
		out[n-1].Last, out[n-1].Until = 0, time.Time{}
	}
	for i := range out {
		for _, k := range known {
			if out[i].Key == keyID(out[i].Key) && keyID(k) == out[i].Key {
				out[i].Key = k
			}
		}
	}
	return out
}

// VerifyEvidenceKeys checks ev offline as VerifyEvidence does, with a key history (GET
// /audit/checkpoint's verifier_keys): its checkpoint must be signed by the key of the
// period that holds its size. A key given with First 0 and Last 0 is taken for any size.
func VerifyEvidenceKeys(ev Evidence, keys []KeyPeriod) (Record, error) {
	size, _, err := treeText(ev.Checkpoint)
	if err != nil {
		return Record{}, fmt.Errorf("checkpoint: %v", err)
	}
	var valid []string
	for _, k := range keys {
		if k.Holds(size) {
			valid = append(valid, k.Key)
		}
	}
	if len(valid) == 0 {
		return Record{}, fmt.Errorf("checkpoint: no key of the history signed checkpoints of size %d", size)
	}
	r, err := VerifyEvidence(ev, valid...)
	if err != nil && strings.Contains(err.Error(), "not signed by a known key") {
		return Record{}, fmt.Errorf("checkpoint: not signed by the key that signed the checkpoints of size %d", size)
	}
	return r, err
}
