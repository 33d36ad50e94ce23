package oauth

import (
	"crypto/ed25519"
	"encoding/json"
	"strconv"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// keyFile is the persisted form of a key set: private JWKs with their times. The caller
// writes it to a file of mode 0600; it is the hub's most sensitive secret.
type keyFile struct {
	Keys []keyRecord `json:"keys"`
}

type keyRecord struct {
	JWK     jose.JSONWebKey `json:"jwk"`
	Created time.Time       `json:"created"`
	Retires *time.Time      `json:"retires,omitempty"` // absent for the current key
}

// MarshalPrivate returns the keys that still verify, private parts included, as JSON.
func (ks *KeySet) MarshalPrivate() ([]byte, error) {
	st := ks.state.Load()
	now := ks.now()
	f := keyFile{Keys: []keyRecord{}}
	for _, info := range ks.Keys() {
		k := st.byID[info.ID]
		if k == nil || !k.live(now) {
			continue // rotated away between the two reads
		}
		r := keyRecord{
			JWK:     jose.JSONWebKey{Key: k.priv, KeyID: k.id, Use: "sig", Algorithm: string(jose.EdDSA)},
			Created: k.created,
		}
		if !k.retires.IsZero() {
			t := k.retires
			r.Retires = &t
		}
		f.Keys = append(f.Keys, r)
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fault.Wrap(err, "encode the key set")
	}
	return b, nil
}

// LoadKeySet reads what MarshalPrivate wrote. Every key must be a private Ed25519 key
// whose kid is its thumbprint, and exactly one key must be current. Keys already retired
// are kept out.
func LoadKeySet(b []byte, now func() time.Time) (*KeySet, error) {
	var f keyFile
	if err := json.Unmarshal(b, &f); err != nil {
		// The cause may quote key material: keep it for the log only.
		return nil, &fault.Error{Kind: fault.Invalid, Field: "keys", Msg: "the key file is not valid JSON", Err: err}
	}
	ks := NewKeySet(now)
	st := &keyState{byID: make(map[string]*signingKey, len(f.Keys))}
	t := ks.now()
	for i, r := range f.Keys {
		k, err := loadKey(r)
		if err != nil {
			return nil, fault.In("keys["+strconv.Itoa(i)+"]", err)
		}
		if _, dup := st.byID[k.id]; dup {
			return nil, fault.Invalidf("keys["+strconv.Itoa(i)+"].kid", "appears twice")
		}
		if k.retires.IsZero() {
			if st.current != nil {
				return nil, fault.Invalidf("keys", "more than one current key")
			}
			st.current = k
		}
		if k.live(t) {
			st.byID[k.id] = k
		}
	}
	if st.current == nil {
		return nil, fault.Invalidf("keys", "no current key")
	}
	ks.state.Store(st)
	return ks, nil
}

func loadKey(r keyRecord) (*signingKey, error) {
	priv, ok := r.JWK.Key.(ed25519.PrivateKey)
	if !ok || len(priv) != ed25519.PrivateKeySize {
		return nil, fault.Invalidf("jwk", "is not a private Ed25519 key")
	}
	pub := priv.Public().(ed25519.PublicKey)
	kid, err := thumbprint(pub)
	if err != nil {
		return nil, err
	}
	if r.JWK.KeyID != kid {
		return nil, fault.Invalidf("jwk.kid", "is not the key's RFC 7638 thumbprint")
	}
	k := &signingKey{id: kid, priv: priv, pub: pub, created: r.Created}
	if r.Retires != nil {
		k.retires = *r.Retires
	}
	return k, nil
}
