package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
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

// eventsDead serves GET /admin/events/dead[?subscription=…&limit=…]: copies set aside.
func (s *Server) eventsDead(w http.ResponseWriter, r *http.Request, _ string) error {
	limit := 1000
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 {
			return fault.Invalidf("limit", "must be a whole number from 1 to 100000")
		}
		limit = n
	}
	sub := r.URL.Query().Get("subscription")
	if strings.ContainsAny(sub, ".*> \t") {
		return fault.Invalidf("subscription", "%.60q is not a subscription id", sub)
	}
	dead, err := s.events.Dead(r.Context(), sub, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"dead": dead})
	return nil
}

// eventsRetry serves POST /admin/events/dead/{subscription}/retry.
func (s *Server) eventsRetry(w http.ResponseWriter, r *http.Request, _ string) error {
	sub := r.PathValue("subscription")
	if sub == "" || strings.ContainsAny(sub, ".*> \t") {
		return fault.Invalidf("subscription", "%.60q is not a subscription id", sub)
	}
	n, err := s.events.Retry(r.Context(), sub)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"sent_again": n})
	return nil
}
