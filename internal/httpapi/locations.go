package httpapi

import (
	"net/http"
	"time"

	"github.com/crossroads-hub/crossroads/internal/population"
)

// The location tree of the nation, as the DCI locations API publishes it.

type locationHierarchy struct {
	Context     map[string]string `json:"@context"`
	Type        string            `json:"@type"`
	LastUpdated string            `json:"last_updated"`
	Locations   []location        `json:"locations"`
}

// location is a Place. The standard's schema names its properties identifier and
// contained_in_place but requires id and containedInPlace; each place carries both
// spellings, so that readers of either find them.
type location struct {
	Type             string          `json:"@type"`
	ID               string          `json:"id"`
	Identifier       []propertyValue `json:"identifier"`
	Name             string          `json:"name"`
	AdditionalType   string          `json:"additional_type"`
	ContainedIn      *string         `json:"contained_in_place"`
	ContainedInPlace *string         `json:"containedInPlace"`
}

type propertyValue struct {
	Type       string `json:"@type"`
	Name       string `json:"name"`
	Identifier string `json:"identifier"`
}

// locations serves GET /.well-known/locations.json: the regions and municipalities of
// the built-in civil register.
func (s *Server) locations(w http.ResponseWriter, r *http.Request) error {
	places, err := s.pop.Places(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newLocationHierarchy(places, time.Now()))
	return nil
}

func newLocationHierarchy(places []population.Place, now time.Time) locationHierarchy {
	h := locationHierarchy{
		Context:     map[string]string{"@context": "http://spdci.org/", "xsd": "http://www.w3.org/2001/XMLSchema#", "schema": "http://schema.org/"},
		Type:        "LocationHierarchy",
		LastUpdated: now.UTC().Format(time.RFC3339),
		Locations:   make([]location, 0, len(places)),
	}
	for _, p := range places {
		l := location{Type: "Place", ID: p.Code, Name: p.Name, AdditionalType: "crossroads:" + p.Kind,
			Identifier: []propertyValue{{Type: "PropertyValue", Name: "crossroads-location", Identifier: p.Code}}}
		if p.Parent != "" {
			parent := p.Parent
			l.ContainedIn, l.ContainedInPlace = &parent, &parent
		}
		h.Locations = append(h.Locations, l)
	}
	return h
}
