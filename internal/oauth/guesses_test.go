package oauth

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/limit"
)

// TestGuessesAreLimited: wrong secrets are refused with 429 once a client id, or an
// address, has failed too often; others are not held back; the window frees them.
func TestGuessesAreLimited(t *testing.T) {
	h := newHub(t)
	var err error
	h.srv, err = NewServer(Config{Issuer: issuer, Directory: h.dir, Keys: h.keys, Now: h.clock.Now,
		Guesses: GuessLimits{PerClient: 3, PerAddress: 5, Window: time.Minute}})
	must(t, err)
	ctx := context.Background()
	try := func(id, secret, from string) error {
		_, err := h.srv.Token(ctx, url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}, "", "", from)
		return err
	}
	good, wrong := h.secrets["app-secret"], h.secrets["app-secret"]+"x"
	outcome := func(err error) string {
		switch {
		case err == nil:
			return "ok"
		case fault.KindOf(err) == fault.TooMany:
			s, _ := limit.RetryAfter(err)
			return fmt.Sprintf("429 %ds", s)
		}
		return ErrorCode(err)
	}
	for i, s := range []struct {
		id, secret, from string
		wait             time.Duration
		want             string
	}{
		{id: "app-secret", secret: good, from: "10.0.0.1", want: "ok"}, // a success costs nothing
		{id: "app-secret", secret: wrong, from: "10.0.0.1", want: CodeInvalidClient},
		{id: "app-secret", secret: wrong, from: "10.0.0.2", want: CodeInvalidClient},
		{id: "app-secret", secret: wrong, from: "10.0.0.3", want: CodeInvalidClient},
		{id: "app-secret", secret: wrong, from: "10.0.0.4", want: "429 20s"}, // 3 a minute: one more in 20 s
		{id: "app-secret", secret: good, from: "10.0.0.4", want: "429 20s"},  // the right secret too
		{id: "app-jwt-x", secret: wrong, from: "10.0.0.1", want: CodeInvalidClient},
		{id: "app-secret", secret: good, from: "", wait: 20 * time.Second, want: "ok"},
		// one address trying many client ids
		{id: "guess-1", secret: wrong, from: "10.9.9.9", want: CodeInvalidClient},
		{id: "guess-2", secret: wrong, from: "10.9.9.9", want: CodeInvalidClient},
		{id: "guess-3", secret: wrong, from: "10.9.9.9", want: CodeInvalidClient},
		{id: "guess-4", secret: wrong, from: "10.9.9.9", want: CodeInvalidClient},
		{id: "guess-5", secret: wrong, from: "10.9.9.9", want: CodeInvalidClient},
		{id: "guess-6", secret: wrong, from: "10.9.9.9", want: "429 12s"},
		{id: "app-secret", secret: good, from: "10.9.9.9", want: "429 12s"},
		{id: "app-secret", secret: good, from: "10.9.9.8", want: "ok"},
		{id: "guess-7", secret: wrong, from: "10.9.9.9", wait: 12 * time.Second, want: CodeInvalidClient},
	} {
		h.clock.Advance(s.wait)
		if got := outcome(try(s.id, s.secret, s.from)); got != s.want {
			t.Errorf("step %d: %s from %q = %s; want %s", i, s.id, s.from, got, s.want)
		}
	}
}

// TestGuessesPerReplica: n replicas, each with its share of the limit on failed
// authentications (GuessLimits.PerReplica) and a memory of its own, allow a guesser at
// most the limit of one hub in all, however the guesses are spread among them; spread
// round robin, exactly that.
func TestGuessesPerReplica(t *testing.T) {
	const perClient, n, guesses = 12, 3, 40
	h := newHub(t)
	ctx := context.Background()
	wrong := h.secrets["app-secret"] + "x"
	for _, spread := range []struct {
		name  string
		to    func(i int) int
		exact bool
	}{
		{"round robin", func(i int) int { return i % n }, true},
		{"all to one", func(int) int { return 1 }, false},
		{"two of three", func(i int) int { return i % 2 }, false},
		{"uneven", func(i int) int { return (i * i * 7) % n }, false},
	} {
		var replicas [n]*Server
		for i := range replicas {
			srv, err := NewServer(Config{Issuer: issuer, Directory: h.dir, Keys: h.keys, Now: h.clock.Now,
				Guesses: GuessLimits{PerClient: perClient, Window: time.Minute}.PerReplica(n)})
			must(t, err)
			replicas[i] = srv
		}
		failed := 0
		for i := range guesses {
			_, err := replicas[spread.to(i)].Token(ctx, url.Values{"grant_type": {"client_credentials"}, "client_id": {"app-secret"},
				"client_secret": {wrong}}, "", "", "10.0.0."+strconv.Itoa(i%200))
			switch {
			case ErrorCode(err) == CodeInvalidClient:
				failed++
			case fault.KindOf(err) != fault.TooMany:
				t.Fatalf("%s: guess %d = %v; want invalid_client or 429", spread.name, i, err)
			}
		}
		if failed > perClient || (spread.exact && failed != perClient) {
			t.Errorf("%s: %d wrong secrets tried in a minute through %d replicas; want at most %d (one hub's limit)", spread.name, failed, n, perClient)
		}
	}
	if g := (GuessLimits{PerClient: 10, PerAddress: 50}).PerReplica(3); g.PerClient != 3 || g.PerAddress != 16 || g.Window != time.Minute {
		t.Errorf("PerReplica(3) of 10 and 50 = %+v; want 3 and 16 a minute", g)
	}
	if g := (GuessLimits{PerClient: 2}).PerReplica(5); g.PerClient != 1 {
		t.Errorf("PerReplica(5) of 2 = %d; want 1 (never 0, which would mean the default)", g.PerClient)
	}
}
