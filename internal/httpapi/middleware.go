package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/crossroads-hub/crossroads/internal/answer"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/metrics"
)

type ctxKey int

const requestIDKey ctxKey = 0

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

var goodRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// statusWriter remembers the status for the access log and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type httpMetrics struct {
	requests *metrics.CounterVec
	duration *metrics.HistogramVec
}

func newMetrics(reg *metrics.Registry) *httpMetrics {
	return &httpMetrics{
		requests: reg.Counter("crossroads_http_requests_total", "HTTP requests by route and status.", "route", "status"),
		duration: reg.Histogram("crossroads_http_request_seconds", "HTTP request latency by route.",
			[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5}, "route"),
	}
}

// Observe wraps a handler served beside the API (the portal) in the same request ids,
// recovery, log lines and metrics: its requests count in crossroads_http_requests_total
// by their route.
func (s *Server) Observe(h http.Handler) http.Handler { return s.observe(h) }

// observe gives every request an id, recovers panics, logs the request and counts it.
// The log names the route pattern, not the path, so that person numbers in paths
// ("/admin/persons/{person}/files") stay out of the logs.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !goodRequestID.MatchString(id) {
			id = newID()
		}
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("panic", "request_id", id, "panic", v, "stack", string(debug.Stack()))
				if sw.status == 0 {
					answerError(sw, r, fault.Wrap(errors.New("panic"), "serve"), "")
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			d := time.Since(start)
			s.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
			s.metrics.duration.WithLabelValues(route).Observe(d.Seconds())
			if route != "GET /healthz" {
				s.log.LogAttrs(r.Context(), slog.LevelInfo, "http",
					slog.String("request_id", id), slog.String("method", r.Method),
					slog.String("route", route), slog.Int("status", sw.status),
					slog.Int("bytes", sw.bytes), slog.Duration("duration", d))
			}
		}()
		ww, r := s.limitUploads(sw, r)
		next.ServeHTTP(ww, r)
	})
}

var newID = answer.NewID
