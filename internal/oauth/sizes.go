package oauth

// Sizes is what the server's in-memory structures hold, each bounded: the gauges of
// /metrics (httpapi), so that the memory a hub holds explains itself.
type Sizes struct {
	Tokens, TokensMax   int // verified access tokens remembered (maxTokenEntries)
	Replay, ReplayMax   int // jti of client assertions remembered until they expire (maxReplayEntries)
	Statuses            int // application statuses remembered for StatusTTL (one per application: the directory's size)
	Guesses, GuessesMax int // failed-authentication keys remembered, by client and by address (GuessLimits.Keys each)
}

// Sizes returns the sizes of the server's memory.
func (s *Server) Sizes() Sizes {
	var z Sizes
	s.verified.mu.RLock()
	z.Tokens, z.TokensMax = len(s.verified.m), s.verified.max
	s.verified.mu.RUnlock()
	s.replay.mu.Lock()
	z.Replay, z.ReplayMax = len(s.replay.seen), s.replay.max
	s.replay.mu.Unlock()
	s.status.mu.RLock()
	z.Statuses = len(s.status.m)
	s.status.mu.RUnlock()
	z.Guesses = s.guesses.byClient.Len() + s.guesses.byAddress.Len()
	z.GuessesMax = s.guesses.byClient.Keys() + s.guesses.byAddress.Keys()
	return z
}
