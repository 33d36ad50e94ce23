package httpapi

import (
	"context"
	"net/http"
)

// Long-lived answers — the events tail, a pull subscription's wait for its next copies —
// would hold http.Server.Shutdown until its grace period ends: a tail lasts as long as
// the operator watches. They watch a context of their own that also ends when shutdown
// starts (EndStreams, which the hub registers with http.Server.RegisterOnShutdown) and
// then end their answer cleanly; other requests in flight finish as before.

// EndStreams ends the long-lived answers in flight, and those that start after at once.
func (s *Server) EndStreams() { s.endStreams() }

// stream is the context of a long-lived answer to r: r's, ended also by EndStreams.
func (s *Server) stream(r *http.Request) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(r.Context())
	if s.streams.Err() != nil { // shutting down already
		cancel()
		return ctx, cancel
	}
	stop := context.AfterFunc(s.streams, cancel)
	return ctx, func() { stop(); cancel() }
}
