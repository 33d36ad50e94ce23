package httpapi

import (
	"net/http"

	"github.com/crossroads-hub/crossroads/internal/directory"
)

// publicAuthorizations lists the access authorizations. They are public by law: anyone
// may see who may obtain which data, for what purpose, on which legal basis.
func (s *Server) publicAuthorizations(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age=60")
	return listRecords[directory.Authorization](w, r, s, true)
}

func (s *Server) publicAuthorization(w http.ResponseWriter, r *http.Request) error {
	v, _, err := directory.Get[directory.Authorization](r.Context(), s.dir, r.PathValue("key"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}
