package portal

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// Session lifetimes: idle and absolute. An anonymous session (a visitor who has not
// logged in: it holds the CSRF token and the login in progress) lives as long.
const (
	sessionIdle     = 15 * time.Minute
	sessionAbsolute = 8 * time.Hour
	maxSessions     = 100_000 // beyond, the oldest anonymous ones go first
)

// session is what the server keeps about one browser. Its id is never stored: the map
// is keyed by the id's SHA-256, so a memory dump does not hand out live cookies.
type session struct {
	mu      sync.Mutex // held by the request being served
	CSRF    string
	Person  string // the citizen logged in; "" when none
	Name    string // their name, for the greeting
	Via     string // how they logged in: "eid" or "code"
	Pro     *professional
	Admin   string // the administrator logged in to the console; "" when none
	Created time.Time
	Seen    time.Time

	OIDC  *oidcPending // an e-ID login in progress
	OTP   *otpPending  // a one-time-code login in progress
	Proof *proof       // the proof the citizen created last (shown again as QR)
}

type sessions struct {
	mu   sync.Mutex
	m    map[[32]byte]*session
	now  func() time.Time
	last time.Time // last sweep
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{m: map[[32]byte]*session{}, now: now}
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("portal: no randomness: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashID(id string) [32]byte { return sha256.Sum256([]byte(id)) }

// get returns the live session named by id, or nil.
func (s *sessions) get(id string) *session {
	if id == "" || len(id) > 64 {
		return nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	k := hashID(id)
	ss := s.m[k]
	if ss == nil {
		return nil
	}
	if now.Sub(ss.Seen) > sessionIdle || now.Sub(ss.Created) > sessionAbsolute {
		delete(s.m, k)
		return nil
	}
	ss.Seen = now
	return ss
}

// create stores a new session and returns its id.
func (s *sessions) create(ss *session) string {
	now := s.now()
	id := randomToken(32)
	ss.Created, ss.Seen = now, now
	if ss.CSRF == "" {
		ss.CSRF = randomToken(32)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.last) > time.Minute || len(s.m) >= maxSessions {
		s.sweep(now)
	}
	s.m[hashID(id)] = ss
	return id
}

// sweep drops expired sessions, then anonymous ones if the store is still full; s.mu
// is held.
func (s *sessions) sweep(now time.Time) {
	s.last = now
	for k, ss := range s.m {
		if now.Sub(ss.Seen) > sessionIdle || now.Sub(ss.Created) > sessionAbsolute {
			delete(s.m, k)
		}
	}
	for k, ss := range s.m {
		if len(s.m) < maxSessions*9/10 { // room for a while: no sweep at every new visitor
			break
		}
		if ss.Person == "" && ss.Pro == nil && ss.Admin == "" {
			delete(s.m, k)
		}
	}
}

// drop ends the session id.
func (s *sessions) drop(id string) {
	s.mu.Lock()
	delete(s.m, hashID(id))
	s.mu.Unlock()
}

// rotate gives the session id a new id (after a login: an id planted before it is
// worth nothing after), with a new CSRF token, and returns the new id.
func (s *sessions) rotate(id string, ss *session) string {
	s.drop(id)
	ss.CSRF = ""
	created := ss.Created
	nid := s.create(ss)
	if !created.IsZero() {
		ss.Created = created
	}
	return nid
}

// count is the number of sessions held (tests).
func (s *sessions) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// sameToken compares two secrets in constant time.
func sameToken(a, b string) bool {
	return a != "" && len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// cookieName is __Host- prefixed when served over TLS: the browser then holds it to
// Secure, Path=/ and no Domain.
func (p *Portal) cookieName() string {
	if p.secure {
		return "__Host-crossroads_portal"
	}
	return "crossroads_portal"
}

func (p *Portal) setCookie(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{Name: p.cookieName(), Value: id, Path: "/", HttpOnly: true, Secure: p.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(sessionAbsolute / time.Second)})
}

func (p *Portal) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: p.cookieName(), Value: "", Path: "/", HttpOnly: true, Secure: p.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// session returns the request's session, creating an anonymous one (and its cookie)
// when there is none, and the session's id.
func (p *Portal) session(w http.ResponseWriter, r *http.Request) (*session, string) {
	if c, err := r.Cookie(p.cookieName()); err == nil {
		if ss := p.sessions.get(c.Value); ss != nil {
			return ss, c.Value
		}
	}
	ss := &session{}
	id := p.sessions.create(ss)
	p.setCookie(w, id)
	return ss, id
}
