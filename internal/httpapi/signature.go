package httpapi

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// signers caches each application's signature policy and keys for a few seconds, so that
// checking a message does not read the store on every request.
type signers struct {
	mu sync.Mutex
	m  map[string]signerEntry
}

type signerEntry struct {
	callbacks   []string // the URL prefixes its asynchronous answers may go to
	institution string
	active      bool
	policy      string
	keys        jose.JSONWebKeySet
	expires     time.Time
}

const signerTTL = 5 * time.Second

func (s *Server) signerOf(ctx context.Context, clientID string) (signerEntry, error) {
	s.signers.mu.Lock()
	e, ok := s.signers.m[clientID]
	s.signers.mu.Unlock()
	if ok && time.Now().Before(e.expires) {
		return e, nil
	}
	app, _, err := directory.Get[directory.Application](ctx, s.dir, clientID)
	if err != nil {
		return e, err
	}
	e = signerEntry{policy: app.Signatures, callbacks: app.Callbacks, institution: app.Institution, active: app.Status == directory.StatusActive, expires: time.Now().Add(signerTTL)}
	for _, raw := range app.Keys {
		var k jose.JSONWebKey
		if k.UnmarshalJSON(raw) == nil {
			e.keys.Keys = append(e.keys.Keys, k)
		}
	}
	s.signers.mu.Lock()
	if s.signers.m == nil {
		s.signers.m = map[string]signerEntry{}
	}
	s.signers.m[clientID] = e
	s.signers.mu.Unlock()
	return e, nil
}

// checkSignature applies the application's message signature policy: a message that
// carries a signature is checked whatever the policy (a signature that does not verify
// is never ignored: the sender meant it to be checked); the policy says only whether a
// message may come unsigned (none, optional) or not (required). The signature is an
// Ed25519 signature string (with kidId) or a compact JWS.
func (s *Server) checkSignature(ctx context.Context, clientID, signature string, header, message json.RawMessage) error {
	e, err := s.signerOf(ctx, clientID)
	if err != nil {
		return err
	}
	return s.verifyWith(e, signature, header, message)
}

// verifyWith applies e's policy and keys to a signature.
func (s *Server) verifyWith(e signerEntry, signature string, header, message json.RawMessage) error {
	sig := strings.TrimSpace(signature)
	switch {
	case sig == "" && e.policy == directory.SignaturesRequired:
		return dci.Coded(fault.Unauthorized, dci.ErrSignatureMissing, "signature", "this application must sign its messages")
	case sig == "":
		return nil
	case strings.Contains(sig, "kidId="):
		parsed, err := dci.ParseSignature(sig)
		if err != nil {
			return err
		}
		for _, k := range e.keys.Key(parsed.KeyID) {
			if pub, ok := k.Key.(ed25519.PublicKey); ok {
				return dci.VerifyEd25519(parsed, header, message, pub, time.Now())
			}
		}
		return dci.Coded(fault.Unauthorized, dci.ErrSignatureInvalid, "signature", "no registered Ed25519 key "+parsed.KeyID)
	}
	return dci.VerifyJWS(sig, header, message, e.keys)
}
