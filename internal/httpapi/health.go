package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz answers 200 only when the stores are reachable and migrated.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.ready != nil {
		if err := s.ready(ctx); err != nil {
			return fault.Unavailablef(err, "not ready: the store does not answer")
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// index tells a newcomer where to look.
func (s *Server) index(w http.ResponseWriter, r *http.Request) error {
	links := map[string]string{
		"health":                "/healthz",
		"ready":                 "/readyz",
		"metrics":               "/metrics",
		"public authorizations": "/public/authorizations",
		"admin (Bearer token)":  "/admin/institutions, /admin/applications, /admin/services, /admin/authorizations, /admin/subscriptions, /admin/integrations, /admin/persons/{person}/files, /admin/history, /admin/nation",
	}
	if s.exchange != nil {
		links["openapi"] = "/openapi.json"
		links["dci registries"] = s.dciPrefix + "/{" + strings.Join(dci.RegistryPaths(), ",") + "}/registry/…"
		if s.dciPrefix != "" {
			links["dci registries"] += " (listed at " + s.dciPrefix + ")"
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name":    "Crossroads social-protection exchange hub",
		"version": s.version,
		"uptime":  time.Since(s.started).Round(time.Second).String(),
		"links":   links,
	})
	return nil
}
