package oauth

import (
	"context"
	"fmt"
	"net/url"
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
