package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/limit"
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
	fault.TooLarge:     http.StatusRequestEntityTooLarge,
	fault.Unsupported:  http.StatusUnsupportedMediaType,
	fault.TooMany:      http.StatusTooManyRequests,
	fault.Unavailable:  http.StatusServiceUnavailable,
	fault.Internal:     http.StatusInternalServerError,
}

// problem is the body of every error answer, written by writeProblem alone: an RFC 9457
// problem (type, title, status, detail) that also carries what the hub's clients already
// read, so that one body serves both kinds of client. Its members besides the problem's:
// the DCI HttpErrorResponse's errors array (every answer; the code from dci.CodeOf, the
// one table from fault kinds), the admin API's error object and request id, an
// asynchronous call's ACK (message, ack_status ERR), and at the token endpoint RFC 6749's
// error and error_description (see oauthProblem).
//
// type is about:blank: the status says what kind of problem it is, and the DCI code in
// errors says precisely which (RFC 9457 §4.2.1; title is then the status's phrase).
type problem struct {
	Type             string          `json:"type"`
	Title            string          `json:"title"`
	Status           int             `json:"status"`
	Detail           string          `json:"detail"`
	Errors           []dci.ErrorBody `json:"errors"`
	Error            any             `json:"error,omitempty"` // *errorDetail, or the OAuth error code
	ErrorDescription string          `json:"error_description,omitempty"`
	RequestID        string          `json:"request_id,omitempty"`
	Message          *dci.AckMessage `json:"message,omitempty"`
}

// errorDetail is the admin API's error object: never the cause.
type errorDetail struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// internalMessage is what a caller sees of an internal error.
const internalMessage = "internal error; quote the request id to the operator"

// problemMediaType is RFC 9457's media type, for every error answer that no other
// standard gives a media type of its own (RFC 6749 does, for the token endpoint's 400
// and 401).
const problemMediaType = "application/problem+json"

// problemFor describes err, answered with status.
func problemFor(r *http.Request, status int, err error) problem {
	kind := fault.KindOf(err)
	e := &errorDetail{Code: kind.String(), Message: internalMessage}
	var fe *fault.Error
	if errors.As(err, &fe) && kind != fault.Internal {
		e.Field, e.Message = fe.Field, fe.Msg
	}
	detail := dci.SafeMessage(err)
	if kind == fault.Internal {
		detail = internalMessage
	}
	return problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail,
		Errors: []dci.ErrorBody{dci.NewErrorBody(err)}, Error: e, RequestID: requestID(r.Context())}
}

// oauthProblem is the body of a refused token request, and its media type. RFC 6749
// §5.2 fixes the token endpoint's error answer (400, 401): application/json with error
// and error_description; that is kept, and the problem's members and the DCI errors are
// added beside them (members an OAuth client does not know it ignores). At other
// statuses (429, 500, 503), whose shape RFC 6749 leaves open, the same body is served as
// application/problem+json.
func oauthProblem(r *http.Request, status int, err error, code, description string) ([]byte, string) {
	p := problemFor(r, status, err)
	p.Error, p.ErrorDescription, p.Detail = code, description, description
	if status == http.StatusBadRequest || status == http.StatusUnauthorized {
		return p.bytes(), "application/json"
	}
	return p.bytes(), problemMediaType
}

// bytes encodes p as the hub writes JSON answers.
func (p problem) bytes() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // JSON, not HTML: "<token>" stays as written
	enc.SetIndent("", "  ")
	_ = enc.Encode(p)
	return buf.Bytes()
}

// writeProblem writes an error answer: p, or body when it is given (the bytes of p that
// were sealed in the audit log).
func writeProblem(w http.ResponseWriter, status int, body []byte) {
	writeBody(w, status, problemMediaType, body)
}

func (s *Server) adapt(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// writeError answers err for the admin and public API, and logs it.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	kind := fault.KindOf(err)
	level := slog.LevelInfo
	if kind == fault.Internal || kind == fault.Unavailable {
		level = slog.LevelError
	}
	s.log.Log(r.Context(), level, "request failed", "request_id", requestID(r.Context()), "kind", kind.String(), "err", err)
	answerError(w, r, err, `Bearer realm="crossroads"`)
}

// answerError answers err as a problem with the status of its kind; a 401 carries
// challenge in WWW-Authenticate.
func answerError(w http.ResponseWriter, r *http.Request, err error, challenge string) {
	status := statusOf[fault.KindOf(err)]
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", challenge)
	}
	retryAfter(w, r, err)
	writeProblem(w, status, problemFor(r, status, err).bytes())
}

// refusalPause is how long a refusal by the caller's own limits is held before it is
// sent: a client that asks again at once, whatever Retry-After says, then sends one
// request a second on each connection rather than as many as the hub can refuse (each
// refusal is authenticated, decoded and recorded, which costs the processor as much as a
// look-up). A client that waits as it is told loses nothing.
const refusalPause = time.Second

// retryAfter tells a caller held back by a limit when to ask again (RFC 9110 §10.2.3),
// after refusalPause if the limit is the caller's own (429).
func retryAfter(w http.ResponseWriter, r *http.Request, err error) {
	s, ok := limit.RetryAfter(err)
	if !ok {
		return
	}
	w.Header().Set("Retry-After", strconv.Itoa(s))
	if fault.KindOf(err) != fault.TooMany {
		return
	}
	t := time.NewTimer(refusalPause)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
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

// writeRaw writes a JSON answer already encoded.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	writeBody(w, status, "application/json", body)
}

func writeBody(w http.ResponseWriter, status int, mediaType string, body []byte) {
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
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
		return fault.TooLargef("body", "is larger than %d bytes", me.Limit)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fault.Invalidf(name, "is not a known field")
	case errors.Is(err, io.EOF):
		return fault.Invalidf("body", "is empty")
	}
	return fault.Invalidf("body", "%v", err)
}

// needContentType refuses a body whose media type is not one of want: 415 naming
// Content-Type (the token endpoint answers it 400, as RFC 6749 wants).
func needContentType(r *http.Request, want ...string) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil {
		for _, w := range want {
			if mt == w {
				return nil
			}
		}
	}
	return fault.Unsupportedf("Content-Type", "must be %s", strings.Join(want, " or "))
}

// bearerToken returns the token of an Authorization header of the Bearer scheme, whose
// name is case-insensitive (RFC 7235): "bearer x" is as good as "Bearer x".
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// unmatched answers what mux has no route for — an unknown path (404) or a method the
// path does not take (405, with its Allow header) — with a problem like every other
// error, instead of the mux's plain text.
func unmatched(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		probe := &headerRecorder{header: http.Header{}}
		h.ServeHTTP(probe, r) // the mux's own answer: its status and Allow header only
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.header.Get("Allow"))
			err := dci.Coded(fault.Invalid, dci.ErrRequestBad, "method", clipPath(r.Method)+" is not a method of "+clipPath(r.URL.Path)+"; use "+probe.header.Get("Allow"))
			writeProblem(w, http.StatusMethodNotAllowed, problemFor(r, http.StatusMethodNotAllowed, err).bytes())
			return
		}
		if probe.status == http.StatusMovedPermanently || probe.status == http.StatusTemporaryRedirect || probe.status == http.StatusPermanentRedirect {
			mux.ServeHTTP(w, r) // a path cleaned or a trailing slash: the mux's redirect
			return
		}
		answerError(w, r, dci.Coded(fault.NotFound, dci.ErrNotFound, "path", "no route "+clipPath(r.URL.Path)), "")
	})
}

// headerRecorder keeps the status and headers a handler writes, and drops its body.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header { return h.header }
func (h *headerRecorder) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}
func (h *headerRecorder) Write(b []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return len(b), nil
}

// clipPath bounds caller input echoed in an error.
func clipPath(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
