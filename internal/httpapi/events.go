package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/events"
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
// JSON line, as it happens, until the client goes or the server shuts down.
func (s *Server) eventsTail(w http.ResponseWriter, r *http.Request, _ string) error {
	ctx, done := s.stream(r)
	defer done()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w) // reaches the connection through the middleware's writer
	_ = rc.SetWriteDeadline(timeZero)   // a tail lasts as long as the operator watches
	_ = rc.Flush()
	for line := range s.events.Tail(ctx) {
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

// ownSubscription checks the bearer token (scope registry.subscribe) and that the
// subscription is the caller institution's pull subscription; others are not found.
func (s *Server) ownSubscription(r *http.Request) (string, error) {
	claims, err := s.bearer(r, "registry.subscribe")
	if err != nil {
		return "", err
	}
	id := r.PathValue("subscription")
	sub, _, err := directory.Get[directory.Subscription](r.Context(), s.dir, id)
	if err != nil || sub.Institution != claims.Institution || sub.Mode != directory.ModePull || !sub.Active() {
		return "", fault.NotFoundf("no pull subscription %.60q of %s", id, claims.Institution)
	}
	return id, nil
}

// eventsNext serves GET /events/{subscription}/next[?max=…&wait=…]: the next copies of a
// pull subscription, each to be acknowledged within a minute; the wait ends early when
// the server shuts down.
func (s *Server) eventsNext(w http.ResponseWriter, r *http.Request) error {
	id, err := s.ownSubscription(r)
	if err != nil {
		return err
	}
	max, wait := 100, 5*time.Second
	if v := r.URL.Query().Get("max"); v != "" {
		if max, err = strconv.Atoi(v); err != nil || max < 1 || max > 1000 {
			return fault.Invalidf("max", "must be a whole number from 1 to 1000")
		}
	}
	if v := r.URL.Query().Get("wait"); v != "" {
		if wait, err = time.ParseDuration(v); err != nil || wait < 0 || wait > 30*time.Second {
			return fault.Invalidf("wait", "must be a duration from 0s to 30s")
		}
	}
	if wait == 0 {
		wait = 100 * time.Millisecond
	}
	ctx, done := s.stream(r) // a server shutting down answers at once, with what came
	defer done()
	events, err := s.events.Next(ctx, id, max, wait)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": events})
	return nil
}

// eventsAck serves POST /events/{subscription}/ack with {"keys": […]}: at any replica
// of the hub, whichever handed the copies out. It answers how many were acknowledged,
// and the keys not acknowledged because no copy of them is out to this subscription
// (another subscription's, acknowledged already, unknown; the pipeline logs them).
func (s *Server) eventsAck(w http.ResponseWriter, r *http.Request) error {
	id, err := s.ownSubscription(r)
	if err != nil {
		return err
	}
	var body struct {
		Keys []string `json:"keys"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	if len(body.Keys) == 0 || len(body.Keys) > 1000 {
		return fault.Invalidf("keys", "name 1 to 1000 keys")
	}
	for i, k := range body.Keys {
		if k == "" || len(k) > events.MaxKeyLen {
			return fault.Invalidf(fmt.Sprintf("keys[%d]", i), "a copy's key has 1 to %d characters", events.MaxKeyLen)
		}
	}
	n, unknown, err := s.events.Ack(r.Context(), id, body.Keys)
	if err != nil {
		return err
	}
	if unknown == nil {
		unknown = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"acknowledged": n, "unknown": unknown})
	return nil
}

// eventsDeliveries serves GET /admin/events/deliveries?id=<change> (every copy of a
// change: civil:<seq>, remote:…) or ?key=<key> (one copy): the last outcome of each,
// kept 30 days.
func (s *Server) eventsDeliveries(w http.ResponseWriter, r *http.Request, _ string) error {
	id, one := r.URL.Query().Get("id"), false
	if key := r.URL.Query().Get("key"); key != "" {
		id, one = key, true
	}
	if id == "" || len(id) > 300 || strings.ContainsAny(id, "*> \t") {
		return fault.Invalidf("id", "name a change (?id=civil:<seq>) or one of its copies (?key=civil:<seq>/<subscription>)")
	}
	list, err := s.events.Deliveries(r.Context(), id, one)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": list})
	return nil
}
