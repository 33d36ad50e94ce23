package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Origin is the first line of every checkpoint's text, which names the log.
const Origin = "crossroads audit log"

// Checkpoint is a signed statement of the log's size and root hash. Note is the
// checkpoint as published: the text "crossroads audit log\n<size>\n<base64 root>\n",
// a blank line, and a signature line "— <key name> <base64 key hash and signature>"
// (the golang.org/x/mod/sumdb/note format).
type Checkpoint struct {
	Size int64     `json:"size"`
	Root tlog.Hash `json:"root"`
	Note string    `json:"note"`
	Time time.Time `json:"time"`
}

// SignerFunc returns the signer of the next checkpoint. It is called for each
// checkpoint, so that checkpoints follow a rotation of the hub's key.
type SignerFunc func() (note.Signer, error)

// Key is an Ed25519 key that signs without handing out its private part; the hub's
// current key (oauth.Signer, from KeySet.Current) is one.
type Key interface {
	Sign(msg []byte) []byte
	Public() ed25519.PublicKey
}

// NewSigner returns a note signer that signs with key under name, the key name written
// in every signature line (a host name such as "hub.crossroads.example" is the custom).
func NewSigner(name string, key Key) (note.Signer, error) {
	pub := key.Public()
	if !validKeyName(name) {
		return nil, fault.Invalidf("name", "%q is not a key name (no spaces, no '+')", name)
	}
	if len(pub) != ed25519.PublicKeySize {
		return nil, fault.Invalidf("key", "is not an Ed25519 key")
	}
	return &ed25519Signer{name: name, hash: keyHash(name, pub), key: key}, nil
}

// VerifierKey returns the verifier key to publish for the signer NewSigner(name, key):
// "<name>+<8 hex digits key hash>+<base64 of 0x01 and the public key>".
func VerifierKey(name string, pub ed25519.PublicKey) (string, error) {
	if !validKeyName(name) {
		return "", fault.Invalidf("name", "%q is not a key name (no spaces, no '+')", name)
	}
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		return "", fault.Invalidf("key", "%v", err)
	}
	return vkey, nil
}

type ed25519Signer struct {
	name string
	hash uint32
	key  Key
}

func (s *ed25519Signer) Name() string                    { return s.name }
func (s *ed25519Signer) KeyHash() uint32                 { return s.hash }
func (s *ed25519Signer) Sign(msg []byte) ([]byte, error) { return s.key.Sign(msg), nil }

// keyHash is note's key hash for an Ed25519 key: the first four bytes of
// SHA-256(name, "\n", algorithm 0x01, public key).
func keyHash(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{1})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// validKeyName is note's rule for key names.
func validKeyName(name string) bool {
	return name != "" && utf8.ValidString(name) && strings.IndexFunc(name, unicode.IsSpace) < 0 && !strings.Contains(name, "+")
}

// formatTree returns the text of a checkpoint.
func formatTree(size int64, root tlog.Hash) string {
	return fmt.Sprintf("%s\n%d\n%s\n", Origin, size, root)
}

// parseTree parses the text of a checkpoint strictly: one text has one meaning.
func parseTree(text string) (int64, tlog.Hash, error) {
	lines := strings.SplitAfter(text, "\n")
	if len(lines) != 4 || lines[3] != "" || lines[0] != Origin+"\n" {
		return 0, tlog.Hash{}, errors.New("not a checkpoint of the crossroads audit log")
	}
	s := strings.TrimSuffix(lines[1], "\n")
	size, err := strconv.ParseInt(s, 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != s {
		return 0, tlog.Hash{}, errors.New("malformed tree size")
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSuffix(lines[2], "\n"))
	if err != nil || len(raw) != tlog.HashSize {
		return 0, tlog.Hash{}, errors.New("malformed root hash")
	}
	return size, tlog.Hash(raw), nil
}

// verifiers parses the published verifier keys of the hub (several after a rotation).
func verifiers(keys []string) (note.Verifiers, error) {
	if len(keys) == 0 {
		return nil, errors.New("no verifier key given")
	}
	vs := make([]note.Verifier, 0, len(keys))
	for _, k := range keys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, fmt.Errorf("verifier key %q: %v", k, err)
		}
		vs = append(vs, v)
	}
	return note.VerifierList(vs...), nil
}

// openCheckpoint checks the signature of a checkpoint note and parses its tree.
func openCheckpoint(msg string, vs note.Verifiers) (int64, tlog.Hash, error) {
	n, err := note.Open([]byte(msg), vs)
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &invalid):
			return 0, tlog.Hash{}, errors.New("signature invalid")
		case errors.As(err, &unverified):
			return 0, tlog.Hash{}, errors.New("not signed by a known key")
		}
		return 0, tlog.Hash{}, fmt.Errorf("malformed note: %v", err)
	}
	return parseTree(n.Text)
}

// checkpoint signs and saves a checkpoint of the log's current tree unless the latest one
// already covers it, and returns the latest.
func (l *Log) checkpoint(ctx context.Context) (Checkpoint, error) {
	l.cpMu.Lock()
	defer l.cpMu.Unlock()
	h, err := l.sharedHead(ctx, l.head.Load())
	if err != nil {
		return Checkpoint{}, err
	}
	if h.size == 0 {
		return Checkpoint{}, fault.NotFoundf("the audit log is empty")
	}
	if l.latest.Size >= h.size {
		return l.latest, nil
	}
	signer, err := l.sign()
	if err != nil {
		return Checkpoint{}, fault.Wrap(err, "get the checkpoint signer")
	}
	msg, err := note.Sign(&note.Note{Text: formatTree(h.size, h.root)}, signer)
	if err != nil {
		return Checkpoint{}, fault.Wrap(err, "sign a checkpoint")
	}
	cp := Checkpoint{Size: h.size, Root: h.root, Note: string(msg), Time: l.now().UTC()}
	if err := l.noteKey(signer, cp); err != nil {
		return Checkpoint{}, fault.Wrap(err, "remember the audit log's key history")
	}
	// Remembered outside the store first: the file may run ahead of the store's
	// checkpoints (its records are stored), never behind what was published.
	if l.published != "" {
		if err := writePublished(l.published, cp.Note); err != nil {
			return Checkpoint{}, fault.Wrap(err, "remember a checkpoint")
		}
	}
	if err := l.store.SaveCheckpoint(ctx, StoredCheckpoint{Size: cp.Size, Note: cp.Note, Created: cp.Time}); err != nil && !l.savedElsewhere(err) {
		return Checkpoint{}, fault.Wrap(err, "save a checkpoint")
	}
	l.latest = cp
	return cp, nil
}

// checkpoints signs a checkpoint every period until ctx is done.
func (l *Log) checkpoints(ctx context.Context, every time.Duration) {
	defer close(l.cpDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l.tryCheckpoint(ctx)
		}
	}
}

// tryCheckpoint makes one checkpoint, logging a failure: the next tick tries again.
func (l *Log) tryCheckpoint(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if _, err := l.checkpoint(ctx); err != nil && fault.KindOf(err) != fault.NotFound {
		l.log.Error("audit checkpoint failed", "err", err)
	}
}

// treeText returns the tree a stored note states, without checking its signature (the
// log reads back its own checkpoints).
func treeText(msg string) (int64, tlog.Hash, error) {
	i := strings.LastIndex(msg, "\n\n")
	if i < 0 {
		return 0, tlog.Hash{}, errors.New("malformed note")
	}
	return parseTree(msg[:i+1])
}
