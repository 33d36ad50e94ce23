package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// handler is an HTTP handler that returns its error; adapt writes it in one place.
type handler func(w http.ResponseWriter, r *http.Request) error

// statusOf is the one table from error kinds to HTTP statuses.
var statusOf = map[fault.Kind]int{
	fault.Invalid:      http.StatusBadRequest,
	fault.Unauthorized: http.StatusUnauthorized,
	fault.Forbidden:    http.StatusForbidden,
	fault.NotFound:     http.StatusNotFound,
	fault.Conflict:     http.StatusConflict,
	fault.Unavailable:  http.StatusServiceUnavailable,
	fault.Internal:     http.StatusInternalServerError,
}

// errorBody is what a caller sees of an error: never the cause.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Field   string `json:"field,omitempty"`
		Message string `json:"message"`
	} `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

func (s *Server) adapt(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	kind := fault.KindOf(err)
	var body errorBody
	body.Error.Code = kind.String()
	body.RequestID = requestID(r.Context())
	var fe *fault.Error
	if errors.As(err, &fe) && kind != fault.Internal {
		body.Error.Field, body.Error.Message = fe.Field, fe.Msg
	} else {
		body.Error.Message = "internal error; quote the request id to the operator"
	}
	level := slog.LevelInfo
	if kind == fault.Internal || kind == fault.Unavailable {
		level = slog.LevelError
	}
	s.log.Log(r.Context(), level, "request failed", "request_id", body.RequestID, "kind", kind.String(), "err", err.Error())
	if kind == fault.Unauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="crossroads"`)
	}
	writeJSON(w, statusOf[kind], body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // JSON, not HTML: "<token>" stays as written (nosniff above)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// maxBody is the largest JSON document the admin API reads.
const maxBody = 1 << 20

// decode reads one JSON document strictly: unknown fields and trailing data are errors.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if err := needContentType(r, "application/json"); err != nil {
		return err
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonFault(err)
	}
	if dec.More() {
		return fault.Invalidf("body", "holds more than one JSON document")
	}
	if _, err := dec.Token(); err != io.EOF {
		return fault.Invalidf("body", "holds data after the JSON document")
	}
	return nil
}

// jsonFault turns a decoding error into a message that names the field.
func jsonFault(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	var me *http.MaxBytesError
	switch {
	case errors.As(err, &te):
		return fault.Invalidf(te.Field, "must be a %s, not a JSON %s", te.Type, te.Value)
	case errors.As(err, &se):
		return fault.Invalidf("body", "is not valid JSON at byte %d: %v", se.Offset, err)
	case errors.As(err, &me):
		return fault.Invalidf("body", "is larger than %d bytes", me.Limit)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fault.Invalidf(name, "is not a known field")
	case errors.Is(err, io.EOF):
		return fault.Invalidf("body", "is empty")
	}
	return fault.Invalidf("body", "%v", err)
}

func needContentType(r *http.Request, want ...string) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil {
		for _, w := range want {
			if mt == w {
				return nil
			}
		}
	}
	return &fault.Error{Kind: fault.Invalid, Field: "Content-Type", Msg: "must be " + strings.Join(want, " or ")}
}
