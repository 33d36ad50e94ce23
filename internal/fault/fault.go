// Package fault is the small set of error kinds shared by every layer of the hub.
//
// A capability package returns a *fault.Error when the caller (a person, an application)
// must be told what went wrong; the HTTP and DCI layers map the Kind to a status code
// and an error code in one table each. Msg is safe to show; Err is the cause, for logs
// only: an Error logged through log/slog (LogValue) carries its kind, field, message, DCI
// code and the whole chain of causes, whatever its kind.
package fault

import (
	"errors"
	"fmt"
	"log/slog"
)

// Kind classifies an error by what the caller can do about it.
type Kind int

// The kinds, in the order of the HTTP status they map to.
const (
	Internal     Kind = iota // a bug or an unexpected failure; details are logged, not shown
	Invalid                  // the input is wrong; Field names which part
	Unauthorized             // the caller is not authenticated
	Forbidden                // the caller is authenticated but not allowed
	NotFound                 // the thing asked for does not exist
	Conflict                 // the input contradicts what is stored (duplicate key, overlap)
	TooLarge                 // the input is larger than the hub reads (413); Field names which
	Unsupported              // the input is in a format the hub does not read (415); Field names which
	TooMany                  // the caller asks too much at once or too often; retry later (429)
	Unavailable              // a dependency is down or slow; retrying may help
)

var kindNames = [...]string{"internal", "invalid", "unauthorized", "forbidden", "not_found", "conflict", "too_large", "unsupported_media_type", "too_many_requests", "unavailable"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is an error with a kind, the field it concerns, a safe message and a hidden cause.
type Error struct {
	Kind  Kind
	Field string // the input field at fault, if any ("person", "valid_to", "lines[3].capacity")
	Msg   string // safe to show to the caller
	// Code is the DCI error or reason code ("err.sender_uri.invalid",
	// "rjct.filter.invalid") when a more precise one than the kind's applies; "" otherwise.
	Code string
	Err  error // the cause; logged, never shown
}

func (e *Error) Error() string {
	s := e.Msg
	if e.Field != "" {
		s = e.Field + ": " + s
	}
	if e.Err != nil && e.Kind == Internal {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// LogValue describes e for a log: its kind, field, safe message, DCI code and cause
// (the whole chain, see causeText), so that an unavailable store's "connection refused"
// reaches the log whatever the kind, while the caller sees only Msg.
func (e *Error) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("kind", e.Kind.String())}
	if e.Field != "" {
		attrs = append(attrs, slog.String("field", e.Field))
	}
	attrs = append(attrs, slog.String("msg", e.Msg))
	if e.Code != "" {
		attrs = append(attrs, slog.String("code", e.Code))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("cause", causeText(e.Err)))
	}
	return slog.GroupValue(attrs...)
}

// causeText is the text of a cause with its own causes: an *Error's field, message and
// cause (its Error leaves the cause out unless it is internal), any other error's Error.
func causeText(err error) string {
	fe, ok := err.(*Error)
	if !ok {
		return err.Error()
	}
	s := fe.Msg
	if fe.Field != "" {
		s = fe.Field + ": " + s
	}
	if fe.Err != nil {
		s += ": " + causeText(fe.Err)
	}
	return s
}

// CodeOf returns the DCI code err carries: the Code of the first *Error in its chain
// that has one; "" when none has.
func CodeOf(err error) string {
	for err != nil {
		var fe *Error
		if !errors.As(err, &fe) {
			return ""
		}
		if fe.Code != "" {
			return fe.Code
		}
		err = fe.Err
	}
	return ""
}

// Invalidf reports bad input in field.
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// TooLargef reports input in field larger than the hub reads.
func TooLargef(field, format string, args ...any) *Error {
	return &Error{Kind: TooLarge, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Unsupportedf reports input in field in a format the hub does not read.
func Unsupportedf(field, format string, args ...any) *Error {
	return &Error{Kind: Unsupported, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// NotFoundf reports a missing thing.
func NotFoundf(format string, args ...any) *Error {
	return &Error{Kind: NotFound, Msg: fmt.Sprintf(format, args...)}
}

// Conflictf reports input that contradicts stored state.
func Conflictf(field, format string, args ...any) *Error {
	return &Error{Kind: Conflict, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Forbiddenf reports a refused action.
func Forbiddenf(format string, args ...any) *Error {
	return &Error{Kind: Forbidden, Msg: fmt.Sprintf(format, args...)}
}

// Unauthorizedf reports a missing or bad credential.
func Unauthorizedf(format string, args ...any) *Error {
	return &Error{Kind: Unauthorized, Msg: fmt.Sprintf(format, args...)}
}

// TooManyf reports a caller held back by a limit; cause (a *limit.Refused) says how
// long to wait.
func TooManyf(cause error, format string, args ...any) *Error {
	return &Error{Kind: TooMany, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// Unavailablef reports a dependency that is down, with its cause for the log.
func Unavailablef(cause error, format string, args ...any) *Error {
	return &Error{Kind: Unavailable, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// Wrap marks err as internal unless it already carries a kind.
func Wrap(err error, op string) error {
	if err == nil {
		return nil
	}
	var fe *Error
	if errors.As(err, &fe) {
		return err
	}
	return &Error{Kind: Internal, Msg: op + " failed", Err: err}
}

// KindOf returns the kind of err; errors without one are Internal.
func KindOf(err error) Kind {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Kind
	}
	return Internal
}

// In prefixes the field of err with prefix ("lines[3]" + "capacity"), keeping its kind.
func In(prefix string, err error) error {
	var fe *Error
	if !errors.As(err, &fe) {
		return err
	}
	c := *fe
	if c.Field == "" {
		c.Field = prefix
	} else {
		c.Field = prefix + "." + c.Field
	}
	return &c
}
