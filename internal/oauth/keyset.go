package oauth

import (
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// KeySet holds the hub's Ed25519 signing keys: one current key that signs, and the keys
// it replaced, which still verify until their retirement time so that tokens signed just
// before a rotation stay valid for their lifetime. Readers take an immutable snapshot
// without locking, since Verify consults the set on every request.
type KeySet struct {
	// Rand is the entropy for new keys; set it before first use. nil means crypto/rand.
	Rand io.Reader

	now   func() time.Time
	mu    sync.Mutex // serialises writers
	state atomic.Pointer[keyState]
}

// signingKey is one key of the set. A zero retires means the key is current.
type signingKey struct {
	id      string
	priv    ed25519.PrivateKey
	pub     ed25519.PublicKey
	created time.Time
	retires time.Time
}

// keyState is a snapshot of the set; it is never modified once published.
type keyState struct {
	current *signingKey
	byID    map[string]*signingKey
}

// KeyInfo describes a key without its private part.
type KeyInfo struct {
	ID      string
	Created time.Time
	Retires time.Time // zero for the current key
	Public  ed25519.PublicKey
}

// NewKeySet returns an empty key set; now is the clock (time.Now when nil). Call
// Generate, or use LoadKeySet, before signing.
func NewKeySet(now func() time.Time) *KeySet {
	if now == nil {
		now = time.Now
	}
	ks := &KeySet{now: now}
	ks.state.Store(&keyState{byID: map[string]*signingKey{}})
	return ks
}

// Generate creates the first key of an empty set and returns its key id.
func (ks *KeySet) Generate() (string, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.state.Load().current != nil {
		return "", fault.Conflictf("keys", "the key set already has a current key; rotate it instead")
	}
	return ks.addCurrent(0)
}

// Rotate makes a new current key. The previous current key keeps verifying for
// retireAfter, which must be at least the access-token lifetime (and as long as any other
// user of the keys needs); keys whose retirement has passed are dropped.
func (ks *KeySet) Rotate(retireAfter time.Duration) (string, error) {
	if retireAfter < 0 {
		return "", fault.Invalidf("retire_after", "must not be negative")
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.addCurrent(retireAfter)
}

// addCurrent publishes a snapshot with a fresh current key; ks.mu is held.
func (ks *KeySet) addCurrent(retireAfter time.Duration) (string, error) {
	pub, priv, err := ed25519.GenerateKey(ks.Rand)
	if err != nil {
		return "", fault.Wrap(err, "generate a signing key")
	}
	kid, err := thumbprint(pub)
	if err != nil {
		return "", err
	}
	now := ks.now()
	old := ks.state.Load()
	next := &keyState{byID: make(map[string]*signingKey, len(old.byID)+1)}
	for id, k := range old.byID {
		if k == old.current {
			c := *k
			c.retires = now.Add(retireAfter)
			k = &c
		}
		if k.live(now) {
			next.byID[id] = k
		}
	}
	next.current = &signingKey{id: kid, priv: priv, pub: pub, created: now}
	next.byID[kid] = next.current
	ks.state.Store(next)
	return kid, nil
}

func (k *signingKey) live(now time.Time) bool {
	return k.retires.IsZero() || now.Before(k.retires)
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of pub, base64url without padding.
func thumbprint(pub ed25519.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fault.Wrap(err, "compute a key thumbprint")
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// lookup returns the key kid if it is in the set and not retired at now.
func (ks *KeySet) lookup(kid string, now time.Time) (*signingKey, bool) {
	k, ok := ks.state.Load().byID[kid]
	if !ok || !k.live(now) {
		return nil, false
	}
	return k, true
}

// PublicKey returns the public key kid if it still verifies (current or not yet retired).
func (ks *KeySet) PublicKey(kid string) (ed25519.PublicKey, bool) {
	k, ok := ks.lookup(kid, ks.now())
	if !ok {
		return nil, false
	}
	return k.pub, true
}

// Keys lists the keys that still verify, current first, then newest first.
func (ks *KeySet) Keys() []KeyInfo {
	now := ks.now()
	var out []KeyInfo
	for _, k := range ks.state.Load().byID {
		if k.live(now) {
			out = append(out, KeyInfo{ID: k.id, Created: k.created, Retires: k.retires, Public: k.pub})
		}
	}
	slices.SortFunc(out, func(a, b KeyInfo) int {
		if a.Retires.IsZero() != b.Retires.IsZero() {
			if a.Retires.IsZero() {
				return -1
			}
			return 1
		}
		return b.Created.Compare(a.Created)
	})
	return out
}

// PublicJWKS is the document of GET /.well-known/jwks.json: the public keys that still
// verify, with use "sig" and alg "EdDSA".
func (ks *KeySet) PublicJWKS() jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range ks.Keys() {
		set.Keys = append(set.Keys, jose.JSONWebKey{
			Key: k.Public, KeyID: k.ID, Use: "sig", Algorithm: string(jose.EdDSA),
		})
	}
	return set
}

// Signer is the current key, for callers that sign their own documents (the audit log
// signs its checkpoints with it). It holds the private key: do not log or keep it.
type Signer struct {
	KeyID string
	priv  ed25519.PrivateKey
}

// Sign returns the Ed25519 signature of msg.
func (s Signer) Sign(msg []byte) []byte { return ed25519.Sign(s.priv, msg) }

// Public returns the public key.
func (s Signer) Public() ed25519.PublicKey { return s.priv.Public().(ed25519.PublicKey) }

// Current returns the signer of the current key.
func (ks *KeySet) Current() (Signer, error) {
	c := ks.state.Load().current
	if c == nil {
		return Signer{}, fault.Wrap(errNoKey, "sign")
	}
	return Signer{KeyID: c.id, priv: c.priv}, nil
}

// VerifySignature checks an Ed25519 signature made by key kid, which must still verify.
func (ks *KeySet) VerifySignature(kid string, msg, sig []byte) error {
	k, ok := ks.lookup(kid, ks.now())
	if !ok {
		return fault.Unauthorizedf("signed by an unknown key")
	}
	if !ed25519.Verify(k.pub, msg, sig) {
		return fault.Unauthorizedf("signature invalid")
	}
	return nil
}
