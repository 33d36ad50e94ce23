// Package fault is the small set of error kinds shared by every layer of the hub.
//
// A capability package returns a *fault.Error when the caller (a person, an application)
// must be told what went wrong; the HTTP and DCI layers map the Kind to a status code
// and an error code in one table each. Msg is safe to show; Err is the cause, for logs only.
package fault

import (
	"errors"
	"fmt"
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
	TooMany                  // the caller asks too much at once or too often; retry later (429)
	Unavailable              // a dependency is down or slow; retrying may help
)

var kindNames = [...]string{"internal", "invalid", "unauthorized", "forbidden", "not_found", "conflict", "too_many_requests", "unavailable"}

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
	Err   error  // the cause; logged, never shown
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

// Invalidf reports bad input in field.
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Field: field, Msg: fmt.Sprintf(format, args...)}
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
