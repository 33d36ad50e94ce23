package outbound

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/oauth"
)

// Token is a bearer token and when it expires.
type Token struct {
	Value   string
	Expires time.Time
}

// Tokens caches a token per key (an audience, say), fetching a new one when the cached
// one has Early or less left. Callers that want a key's token while it is being fetched
// wait for that fetch and share its outcome (a caller whose context ends stops
// waiting). It is safe for concurrent use; the zero value needs Fetch.
type Tokens struct {
	Fetch func(ctx context.Context, key string) (Token, error)
	Early time.Duration    // renew this long before expiry
	Now   func() time.Time // nil: time.Now

	mu    sync.Mutex
	slots map[string]*slot
}

type slot struct {
	tok  Token
	call *call // the fetch under way, if any
}

type call struct {
	done    chan struct{}
	tok     Token
	err     error
	waiters int // callers waiting for it besides the one fetching (read by tests)
}

// Get returns key's token, fetching it if the cache holds none fresh enough.
func (t *Tokens) Get(ctx context.Context, key string) (string, error) {
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	t.mu.Lock()
	s := t.slots[key]
	if s == nil {
		if t.slots == nil {
			t.slots = map[string]*slot{}
		}
		s = &slot{}
		t.slots[key] = s
	}
	if s.tok.Value != "" && s.tok.Expires.Sub(now()) > t.Early {
		t.mu.Unlock()
		return s.tok.Value, nil
	}
	if c := s.call; c != nil {
		c.waiters++
		t.mu.Unlock()
		select {
		case <-c.done:
			return c.tok.Value, c.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	c := &call{done: make(chan struct{})}
	s.call = c
	t.mu.Unlock()

	c.tok, c.err = t.Fetch(ctx, key)
	t.mu.Lock()
	if c.err == nil {
		s.tok = c.tok
	}
	s.call = nil
	t.mu.Unlock()
	close(c.done)
	return c.tok.Value, c.err
}

// HubTokenLifetime is how long a token the hub signs for itself is valid; HubTokens
// signs a new one when the cached one has a minute or less left.
const HubTokenLifetime = 5 * time.Minute

// HubTokens caches the tokens the hub signs for itself with keys, by audience: JWSs of
// type typ (oauth.PushTokenType, oauth.SourceTokenType) with oauth.HubClaims, issuer
// iss ("": none).
func HubTokens(keys *oauth.KeySet, typ, iss string) *Tokens {
	return &Tokens{Early: time.Minute, Fetch: func(_ context.Context, audience string) (Token, error) {
		exp := time.Now().Add(HubTokenLifetime)
		b, _ := json.Marshal(oauth.HubClaims{Issuer: iss, Audience: audience, Expires: exp.Unix()})
		tok, err := keys.SignJWS(typ, b)
		return Token{tok, exp}, err
	}}
}
