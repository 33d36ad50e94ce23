package httpapi

// Size is an in-memory structure as /metrics shows it: its help text, how many entries
// it holds now, and the most it may hold (0: bounded otherwise, said in Help).
type Size struct {
	Help string
	Len  func() int
	Max  int
}

// registerSizes adds a gauge per in-memory structure that grows with traffic, each
// bounded by a setting, so that what the process's memory holds explains itself:
// <name> is its entries now, <name>_max the bound. Those of the HTTP API and OAuth are
// here; the wiring adds its own (more).
func (s *Server) registerSizes(more map[string]Size) {
	sizes := map[string]Size{
		"crossroads_recent_message_ids": {Help: "Message ids of recent synchronous searches remembered in this process (both generations; repeats are refused).",
			Len: s.recent.len, Max: 2 * s.recent.limit()},
		"crossroads_source_tokens": {Help: "Verified source tokens remembered (one per token the hub minted, until it expires).",
			Len: func() int {
				n := 0
				s.sourceTokens.Range(func(_, _ any) bool { n++; return true })
				return n
			}},
	}
	if s.oauth != nil {
		o := s.oauth
		sizes["crossroads_oauth_verified_tokens"] = Size{Help: "Verified access tokens remembered until they expire.",
			Len: func() int { return o.Sizes().Tokens }, Max: o.Sizes().TokensMax}
		sizes["crossroads_oauth_assertion_ids"] = Size{Help: "Ids (jti) of client assertions remembered until they expire (replays are refused).",
			Len: func() int { return o.Sizes().Replay }, Max: o.Sizes().ReplayMax}
		sizes["crossroads_oauth_application_statuses"] = Size{Help: "Application statuses remembered for a few seconds (at most one per application).",
			Len: func() int { return o.Sizes().Statuses }}
		sizes["crossroads_oauth_guess_keys"] = Size{Help: "Clients and addresses whose failed authentications are counted.",
			Len: func() int { return o.Sizes().Guesses }, Max: o.Sizes().GuessesMax}
	}
	for name, z := range more {
		sizes[name] = z
	}
	for name, z := range sizes {
		s.reg.Gauge(name, z.Help, "gauge", func() (float64, bool) { return float64(z.Len()), true })
		if z.Max > 0 {
			s.reg.Gauge(name+"_max", "The most entries of "+name+" (a setting).", "gauge", func() (float64, bool) { return float64(z.Max), true })
		}
	}
}
