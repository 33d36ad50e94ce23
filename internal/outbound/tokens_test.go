package outbound

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestTokensRenewBeforeExpiry: a cached token is used until it has Early left, then
// fetched anew; a failed fetch is not cached.
func TestTokensRenewBeforeExpiry(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var fetches int
	fail := false
	tk := &Tokens{Early: time.Minute, Now: func() time.Time { return now },
		Fetch: func(_ context.Context, key string) (Token, error) {
			if fail {
				return Token{}, errors.New("no key")
			}
			fetches++
			return Token{fmt.Sprintf("%s-%d", key, fetches), now.Add(5 * time.Minute)}, nil
		}}
	ctx := context.Background()
	steps := []struct {
		advance time.Duration
		key     string
		want    string
	}{
		{0, "a", "a-1"},
		{3*time.Minute + 59*time.Second, "a", "a-1"}, // 1 min 1 s left
		{0, "b", "b-2"},               // another audience, another token
		{2 * time.Second, "a", "a-3"}, // 59 s left: renewed
		{0, "a", "a-3"},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if got, err := tk.Get(ctx, s.key); err != nil || got != s.want {
			t.Fatalf("step %d: Get(%s) = %q, %v; want %q", i, s.key, got, err, s.want)
		}
	}
	now = now.Add(5 * time.Minute)
	fail = true
	if _, err := tk.Get(ctx, "a"); err == nil {
		t.Fatal("Get with a failing fetch succeeded")
	}
	fail = false
	if got, err := tk.Get(ctx, "a"); err != nil || got != "a-4" {
		t.Errorf("Get after a failed fetch = %q, %v; want a-4", got, err)
	}
}

// TestTokensShareOneFetch: callers that ask while a fetch is under way wait for it and
// get its token; one fetch serves them all.
func TestTokensShareOneFetch(t *testing.T) {
	const callers = 8
	var fetches atomic.Int32
	release := make(chan struct{})
	tk := &Tokens{Early: time.Minute, Fetch: func(context.Context, string) (Token, error) {
		n := fetches.Add(1)
		<-release
		return Token{fmt.Sprint("tok-", n), time.Now().Add(5 * time.Minute)}, nil
	}}
	got := make([]string, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { got[i], _ = tk.Get(context.Background(), "aud") })
	}
	// Wait (by condition, not by time) until one caller fetches and the others wait.
	for {
		tk.mu.Lock()
		s := tk.slots["aud"]
		waiting := s != nil && s.call != nil && s.call.waiters == callers-1
		tk.mu.Unlock()
		if waiting {
			break
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d fetches for %d concurrent callers; want 1", n, callers)
	}
	for i, g := range got {
		if g != "tok-1" {
			t.Errorf("caller %d got %q; want tok-1", i, g)
		}
	}
}

// TestTokensWaiterGivesUp: a caller waiting for another's fetch stops when its own
// context ends.
func TestTokensWaiterGivesUp(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	tk := &Tokens{Fetch: func(context.Context, string) (Token, error) {
		close(started)
		<-release
		return Token{"t", time.Now().Add(time.Hour)}, nil
	}}
	go func() { _, _ = tk.Get(context.Background(), "aud") }()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tk.Get(ctx, "aud"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with an ended context while another fetches = %v; want context.Canceled", err)
	}
}
