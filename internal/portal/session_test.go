package portal

import (
	"testing"
	"time"
)

// A flood of anonymous visitors neither grows the store without bound nor drops the
// logged-in sessions; expired sessions are gone.
func TestSessionsBounded(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	s := newSessions(func() time.Time { return now })
	alice := s.create(&session{Person: "00010500278"})
	for range maxSessions + 10 {
		s.create(&session{})
	}
	if n := s.count(); n > maxSessions {
		t.Errorf("%d sessions held; want at most %d", n, maxSessions)
	}
	if s.get(alice) == nil {
		t.Error("the logged-in session was dropped for anonymous ones")
	}
	now = now.Add(sessionIdle + time.Second)
	if s.get(alice) != nil {
		t.Error("an idle session outlived its idle time")
	}
	if s.get("") != nil || s.get("x") != nil {
		t.Error("an unknown id named a session")
	}
}
