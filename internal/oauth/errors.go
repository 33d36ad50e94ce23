package oauth

import (
	"errors"
	"fmt"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// OAuth 2.0 error codes (RFC 6749 §5.2, RFC 6750 §3.1). The HTTP layer answers 401 with
// a WWW-Authenticate header for CodeInvalidClient and CodeInvalidToken, 403 for
// CodeInsufficientScope, 503 for CodeTemporarilyUnavailable, 500 for CodeServerError and
// 400 for the others.
const (
	CodeInvalidRequest         = "invalid_request"
	CodeInvalidClient          = "invalid_client"
	CodeInvalidGrant           = "invalid_grant" // not produced: RFC 7523 §3.2 makes assertion failures invalid_client
	CodeUnauthorizedClient     = "unauthorized_client"
	CodeUnsupportedGrantType   = "unsupported_grant_type"
	CodeInvalidScope           = "invalid_scope"
	CodeInvalidToken           = "invalid_token"
	CodeInsufficientScope      = "insufficient_scope"
	CodeTemporarilyUnavailable = "temporarily_unavailable"
	CodeServerError            = "server_error"
)

// codeError carries the OAuth code inside a *fault.Error (as its hidden cause), so that
// callers can use either fault.KindOf or ErrorCode on the same error.
type codeError struct {
	code  string
	cause error
}

func (e *codeError) Error() string {
	if e.cause != nil {
		return e.code + ": " + e.cause.Error()
	}
	return e.code
}

func (e *codeError) Unwrap() error { return e.cause }

// ErrorCode returns the OAuth error code of err: the one it carries, else one derived
// from its fault kind; "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var ce *codeError
	if errors.As(err, &ce) {
		return ce.code
	}
	switch fault.KindOf(err) {
	case fault.Invalid, fault.TooLarge, fault.Unsupported: // RFC 6749 §5.2: a malformed request
		return CodeInvalidRequest
	case fault.Unauthorized:
		return CodeInvalidClient
	case fault.Forbidden:
		return CodeUnauthorizedClient
	case fault.Unavailable, fault.TooMany:
		return CodeTemporarilyUnavailable
	}
	return CodeServerError
}

// oauthErr builds a fault of kind with an OAuth code; cause is kept for the log only.
func oauthErr(kind fault.Kind, code, field string, cause error, format string, args ...any) *fault.Error {
	return &fault.Error{Kind: kind, Field: field, Msg: fmt.Sprintf(format, args...), Err: &codeError{code: code, cause: cause}}
}

func badRequest(field, format string, args ...any) *fault.Error {
	return oauthErr(fault.Invalid, CodeInvalidRequest, field, nil, format, args...)
}

func badClient(cause error, format string, args ...any) *fault.Error {
	return oauthErr(fault.Unauthorized, CodeInvalidClient, "", cause, format, args...)
}

func badToken(format string, args ...any) *fault.Error {
	return oauthErr(fault.Unauthorized, CodeInvalidToken, "", nil, format, args...)
}

// clip shortens caller input echoed in a message; only non-secret fields are echoed.
func clip(s string) string {
	const n = 40
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
