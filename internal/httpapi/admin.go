package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// actorHandler is a handler that knows who is acting, for the history.
type actorHandler func(w http.ResponseWriter, r *http.Request, actor string) error

// admin requires an administrator bearer token.
func (s *Server) admin(h actorHandler) http.HandlerFunc {
	return s.adapt(func(w http.ResponseWriter, r *http.Request) error {
		token, ok := bearerToken(r)
		if !ok || token == "" {
			return fault.Unauthorizedf("send an administrator token as 'Authorization: Bearer <token>'")
		}
		actor, err := s.dir.Admin(r.Context(), strings.TrimSpace(token))
		if err != nil {
			// An institution's valid access token: the caller is known, the route is not its.
			if s.oauth != nil {
				if _, verr := s.oauth.Verify(r.Context(), token); verr == nil {
					return fault.Forbiddenf("administrators only: an institution's access token does not open this route")
				}
			}
			return err
		}
		return h(w, r, actor)
	})
}

// records mounts list, create, get, replace and delete of one kind of record under
// /admin/<path>; owner names the institution a record belongs to (nil: none).
func records[T directory.Entity, P directory.EntityPtr[T]](mux router, s *Server, path string, owner func(T) string) {
	base := "/admin/" + path
	mux.HandleFunc("GET "+base, s.admin(func(w http.ResponseWriter, r *http.Request, _ string) error {
		return listRecords[T, P](w, r, s, owner != nil)
	}))
	mux.HandleFunc("POST "+base, s.admin(func(w http.ResponseWriter, r *http.Request, actor string) error {
		return putRecord[T, P](w, r, s, actor, "", directory.MustCreate, http.StatusCreated)
	}))
	mux.HandleFunc("GET "+base+"/{key}", s.admin(func(w http.ResponseWriter, r *http.Request, _ string) error {
		v, version, err := directory.Get[T, P](r.Context(), s.dir, r.PathValue("key"))
		if err != nil {
			return err
		}
		w.Header().Set("ETag", etag(version))
		writeJSON(w, http.StatusOK, v)
		return nil
	}))
	mux.HandleFunc("PUT "+base+"/{key}", s.admin(func(w http.ResponseWriter, r *http.Request, actor string) error {
		version, err := ifMatch(r)
		if err != nil {
			return err
		}
		return putRecord[T, P](w, r, s, actor, r.PathValue("key"), version, http.StatusOK)
	}))
	mux.HandleFunc("DELETE "+base+"/{key}", s.admin(func(w http.ResponseWriter, r *http.Request, actor string) error {
		if err := directory.Delete[T, P](r.Context(), s.dir, actor, r.PathValue("key")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
}

func putRecord[T directory.Entity, P directory.EntityPtr[T]](w http.ResponseWriter, r *http.Request, s *Server, actor, key string, version int64, status int) error {
	var v T
	if err := decode(w, r, &v); err != nil {
		return err
	}
	if got := directory.KeyOf[T, P](v); key != "" && got != key {
		return fault.Invalidf("body", "the record's key %q differs from the key %q in the path", got, key)
	}
	v, version, err := directory.Put[T, P](r.Context(), s.dir, actor, v, version)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(version))
	writeJSON(w, status, v)
	return nil
}

func listRecords[T directory.Entity, P directory.EntityPtr[T]](w http.ResponseWriter, r *http.Request, s *Server, owned bool) error {
	q, keep, err := listQuery[T](r, owned)
	if err != nil {
		return err
	}
	page, err := directory.List[T, P](r.Context(), s.dir, q, keep)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// listQuery reads limit, after and institution, and turns every other parameter into a
// filter on the record's top-level field of that name.
func listQuery[T any](r *http.Request, owned bool) (directory.ListQuery, func(T) bool, error) {
	var q directory.ListQuery
	var filters []filter
	for name, vals := range r.URL.Query() {
		v := vals[len(vals)-1]
		switch {
		case name == "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				return q, nil, fault.Invalidf("limit", "must be a number from 1 to 1000")
			}
			q.Limit = n
		case name == "after":
			q.After = v
		case name == "institution" && owned:
			q.Owner = v
		default:
			f, err := newFilter[T](name, v)
			if err != nil {
				return q, nil, err
			}
			filters = append(filters, f)
		}
	}
	if len(filters) == 0 {
		return q, nil, nil
	}
	return q, func(v T) bool { return matchAll(v, filters) }, nil
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// ifMatch reads the version a client read (If-Match: "3"); none means replace whatever is there.
func ifMatch(r *http.Request) (int64, error) {
	h := r.Header.Get("If-Match")
	if h == "" {
		return directory.AnyVersion, nil
	}
	n, err := strconv.ParseInt(strings.Trim(h, `"`), 10, 64)
	if err != nil || n < 1 {
		return 0, fault.Invalidf("If-Match", "must be the ETag of the record, like \"3\"")
	}
	return n, nil
}

func (s *Server) issueSecret(w http.ResponseWriter, r *http.Request, actor string) error {
	secret, err := s.dir.IssueClientSecret(r.Context(), actor, r.PathValue("key"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]string{
		"client_id": r.PathValue("key"), "client_secret": secret,
		"note": "shown once; only its hash is kept",
	})
	return nil
}
