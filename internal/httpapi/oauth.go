package httpapi

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"

	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/oauth"
)

// maxForm bounds a token request.
const maxForm = 64 << 10

// token is the OAuth2 client-credentials endpoint of the DCI authorization API.
func (s *Server) token(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if err := needContentType(r, "application/x-www-form-urlencoded"); err != nil {
		return s.oauthError(w, r, err)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return s.oauthError(w, r, fault.Invalidf("body", "is not a form: %v", err))
	}
	user, pass, _ := r.BasicAuth()
	from, _, _ := net.SplitHostPort(r.RemoteAddr)
	resp, err := s.oauth.Token(r.Context(), r.PostForm, user, pass, from)
	if err != nil {
		return s.oauthError(w, r, err)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// oauthError answers as RFC 6749 §5.2 says: {"error", "error_description"} (with the
// members of a problem besides, see oauthProblem).
func (s *Server) oauthError(w http.ResponseWriter, r *http.Request, err error) error {
	code := oauth.ErrorCode(err)
	if fault.KindOf(err) == fault.Invalid && code == "server_error" {
		code = "invalid_request"
	}
	status := map[string]int{"invalid_client": 401, "temporarily_unavailable": 503, "server_error": 500}[code]
	if status == 0 {
		status = http.StatusBadRequest
	}
	if fault.KindOf(err) == fault.TooMany {
		status = http.StatusTooManyRequests
	}
	if status == 401 {
		w.Header().Set("WWW-Authenticate", `Basic realm="crossroads"`)
	}
	msg := "internal error"
	var fe *fault.Error
	if errors.As(err, &fe) && fe.Kind != fault.Internal {
		msg = fe.Msg
		if fe.Field != "" {
			msg = fe.Field + ": " + msg
		}
	}
	s.log.Info("token refused", "request_id", requestID(r.Context()), "error", code, "err", err)
	body, mediaType := oauthProblem(r, status, err, code, msg)
	client := r.PostForm.Get("client_id")
	if u, _, ok := r.BasicAuth(); ok && client == "" {
		client = u
	}
	if len(client) > 99 {
		client = client[:99]
	}
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: "claimed:" + client}, Service: "oauth2:token"}
	ans := exchange.Answer{Err: err, Status: status, Decision: exchange.Decision{Code: code, Reasons: []string{code + ": " + msg}}}
	if _, serr := s.exchange.Seal(r.Context(), ask, ans, body); serr != nil {
		return serr
	}
	retryAfter(w, r, err)
	writeBody(w, status, mediaType, body)
	return nil
}

// jwks publishes the hub's public keys: tokens and audit checkpoints verify with them.
func (s *Server) jwks(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age=300")
	b, err := json.Marshal(s.keys.PublicJWKS())
	if err != nil {
		return fault.Wrap(err, "encode keys")
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(b)
	return err
}
