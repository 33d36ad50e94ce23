// Package httpapi is the HTTP face of the hub: health and readiness, metrics, the public
// list of authorizations, and the admin API of the reference directory. Handlers return
// errors; one adapter writes them, using one table from error kinds to statuses.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// Deps are what the server needs.
type Deps struct {
	Directory  *directory.Directory
	Population population.Store // the built-in civil register, for the nation summary
	// Ready reports whether the stores are reachable and migrated.
	Ready   func(ctx context.Context) error
	Log     *slog.Logger
	Version string
	// Registry collects metrics; a fresh one is made when nil.
	Registry *prometheus.Registry
}

// Server serves the hub's HTTP API.
type Server struct {
	dir     *directory.Directory
	pop     population.Store
	ready   func(ctx context.Context) error
	log     *slog.Logger
	version string
	started time.Time
	metrics *metrics
	reg     *prometheus.Registry
	handler http.Handler
}

// NewServer builds the handler with every route.
func NewServer(d Deps) *Server {
	reg := d.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{dir: d.Directory, pop: d.Population, ready: d.Ready, log: log,
		version: d.Version, started: time.Now(), metrics: newMetrics(reg), reg: reg}
	mux := http.NewServeMux()
	s.routes(mux)
	s.handler = s.observe(mux)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }
