package httpapi

import (
	"net/http"
	"time"
)

// eventsStatus serves GET /admin/events: outcomes since start and each push
// subscription's backlog.
func (s *Server) eventsStatus(w http.ResponseWriter, r *http.Request, _ string) error {
	st, err := s.events.Status(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// eventsTail serves GET /admin/events/tail: every routing and delivery outcome as a
// JSON line, as it happens, until the client goes.
func (s *Server) eventsTail(w http.ResponseWriter, r *http.Request, _ string) error {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w) // reaches the connection through the middleware's writer
	_ = rc.SetWriteDeadline(timeZero)   // a tail lasts as long as the operator watches
	_ = rc.Flush()
	for line := range s.events.Tail(r.Context()) {
		if _, err := w.Write(append(line, '\n')); err != nil {
			return nil
		}
		_ = rc.Flush()
	}
	return nil
}

var timeZero = time.Time{}
