package oauth

import (
	"net/url"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/limit"
)

// Failed client authentications are limited per client id and per address, so that
// secrets cannot be guessed at the speed of the endpoint: after Burst failures a key is
// refused (429, Retry-After) until failures age out at Burst per Window. Every attempt
// reserves a failure and gets it back when it succeeds, so concurrent guesses cannot
// overrun the limit either. While a key is refused the right secret is refused too, or
// guessing could go on. The limits remember a bounded number of keys (limit.Limiter).
type GuessLimits struct {
	PerClient  int           // failures of one claimed client id; default 10
	PerAddress int           // failures from one remote address; default 50
	Window     time.Duration // in which that many fail; default a minute
	Keys       int           // keys remembered, of each kind; default limit.DefaultKeys
}

func (g GuessLimits) withDefaults() GuessLimits {
	if g.PerClient <= 0 {
		g.PerClient = 10
	}
	if g.PerAddress <= 0 {
		g.PerAddress = 50
	}
	if g.Window <= 0 {
		g.Window = time.Minute
	}
	return g
}

// guesses holds the failures by client id and by address.
type guesses struct {
	byClient, byAddress *limit.Limiter
}

func newGuesses(g GuessLimits, now func() time.Time) guesses {
	g = g.withDefaults()
	per := func(n int) *limit.Limiter {
		return limit.New(limit.Config{Rate: float64(n) / g.Window.Seconds(), Burst: float64(n), Keys: g.Keys, Now: now})
	}
	return guesses{byClient: per(g.PerClient), byAddress: per(g.PerAddress)}
}

// attempt is a client authentication under way.
type attempt []*limit.Ticket

// begin admits an attempt by the client claimed (may be "") from address (may be "": unknown).
func (g guesses) begin(client, address string) (attempt, error) {
	var a attempt
	for _, k := range []struct {
		l        *limit.Limiter
		key, who string
	}{{g.byClient, client, "this client id"}, {g.byAddress, address, "this address"}} {
		if k.key == "" {
			continue
		}
		t, err := k.l.Take(k.key, 1)
		if err != nil {
			a.end(false)
			s, _ := limit.RetryAfter(err)
			return nil, oauthErr(fault.TooMany, CodeTemporarilyUnavailable, "", err,
				"too many failed client authentications for %s; retry after %d s", k.who, s)
		}
		a = append(a, t)
	}
	return a, nil
}

// end charges a failure, or gives the reserved one back.
func (a attempt) end(failed bool) {
	cost := 0.0
	if failed {
		cost = 1
	}
	for _, t := range a {
		t.Done(cost)
	}
}

// claimedClient is the client id a token request names: client_id, else the HTTP Basic
// user; "" for a client assertion alone (its iss is read only once it is parsed).
func claimedClient(form url.Values, basicUser string) string {
	if id := form.Get("client_id"); id != "" {
		return id
	}
	u, err := url.QueryUnescape(basicUser)
	if err != nil {
		return basicUser
	}
	return u
}

// PerReplica is one replica's part of g when n replicas of the hub share its clients: each
// replica counts failures in its own memory, so each allows PerClient/n and
// PerAddress/n (rounded down, at least 1) in the Window, and the n together allow at
// most what g allows one hub, however a guesser's attempts are spread among them (the
// sum of the parts is at most the whole); spread evenly, as a round-robin balancer
// does, exactly that when n divides it. n ≤ 1: g.
func (g GuessLimits) PerReplica(n int) GuessLimits {
	if n <= 1 {
		return g
	}
	g = g.withDefaults()
	g.PerClient, g.PerAddress = max(g.PerClient/n, 1), max(g.PerAddress/n, 1)
	return g
}
