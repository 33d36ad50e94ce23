package dci

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Message-level error codes (the standard's Error.code enum), for ACKs and HTTP error bodies.
const (
	ErrRequestBad         = "err.request.bad"
	ErrUnauthorized       = "err.request.unauthorized"
	ErrForbidden          = "err.request.forbidden"
	ErrNotFound           = "err.request.not_found"
	ErrTimeout            = "err.request.timeout"
	ErrVersion            = "err.version.not_supported"
	ErrTooManyRequests    = "err.request.too_many_requests"
	ErrSenderID           = "err.sender_id.invalid"
	ErrSenderURI          = "err.sender_uri.invalid"
	ErrReceiverID         = "err.receiver_id.invalid"
	ErrSignatureMissing   = "err.signature.missing"
	ErrSignatureInvalid   = "err.signature.invalid"
	ErrEncryption         = "err.encryption.invalid"
	ErrServiceUnavailable = "err.service.unavailable"
)

// Reasons a whole message is rejected (the standard's MsgHeaderStatusReasonCode enum), in
// a callback header's status_reason_code.
const (
	RjctMessageIDDuplicate = "rjct.message_id.duplicate"
	RjctActionInvalid      = "rjct.action.invalid"
	RjctActionNotSupported = "rjct.action.not_supported"
)

// Per-item reason codes of a search answer (the standard's SearchStatusReasonCode enum).
const (
	RjctReferenceIDInvalid   = "rjct.reference_id.invalid"
	RjctReferenceIDDuplicate = "rjct.reference_id.duplicate"
	RjctTimestampInvalid     = "rjct.timestamp.invalid"
	RjctCriteriaInvalid      = "rjct.search_criteria.invalid"
	RjctFilterInvalid        = "rjct.filter.invalid"
	RjctSortInvalid          = "rjct.sort.invalid"
	RjctPaginationInvalid    = "rjct.pagination.invalid"
	RjctTooManyRecords       = "rjct.search.too_many_records_found"
)

var searchReasons = map[string]bool{
	RjctReferenceIDInvalid: true, RjctReferenceIDDuplicate: true, RjctTimestampInvalid: true,
	RjctCriteriaInvalid: true, RjctFilterInvalid: true, RjctSortInvalid: true,
	RjctPaginationInvalid: true, RjctTooManyRecords: true,
}

// ErrorCode is the one table from the hub's error kinds to the standard's message-level codes.
//
// Internal maps to err.service.unavailable: the enum has no "internal error", and
// err.request.bad would tell the partner to change a request that was fine; a retry may
// succeed. Conflict maps to err.request.bad: the request contradicts what the hub holds;
// so do TooLarge and Unsupported (the enum has no code of their own; the status says it).
// Timeouts carry no kind of their own; CodeOf recognises context.DeadlineExceeded.
func ErrorCode(kind fault.Kind) string {
	switch kind {
	case fault.Invalid, fault.Conflict, fault.TooLarge, fault.Unsupported:
		return ErrRequestBad
	case fault.Unauthorized:
		return ErrUnauthorized
	case fault.Forbidden:
		return ErrForbidden
	case fault.NotFound:
		return ErrNotFound
	case fault.TooMany:
		return ErrTooManyRequests
	default: // fault.Internal, fault.Unavailable
		return ErrServiceUnavailable
	}
}

// Coded returns an error of kind with a safe message whose DCI code is dciCode (an err.*
// code for a message, or a rjct.* reason for a search item), in the error's Code.
func Coded(kind fault.Kind, dciCode, field, msg string) *fault.Error {
	return &fault.Error{Kind: kind, Field: field, Msg: msg, Code: dciCode}
}

// CodeOf returns the DCI code for err: the code it carries (fault.CodeOf, see Coded),
// err.request.timeout for a deadline, and otherwise ErrorCode of its kind.
func CodeOf(err error) string {
	if c := fault.CodeOf(err); c != "" {
		return c
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ErrTimeout
	}
	return ErrorCode(fault.KindOf(err))
}

// ReasonOf returns the search reason code err carries; for an invalid item that carries
// none, the one its field points at (sort, pagination, else the search criteria), so
// that a client can act on a rejected item without reading its message; "" otherwise
// (a refusal or a source's failure: the SearchStatusReasonCode enum, which the spec
// allows alone there, has nothing for them).
func ReasonOf(err error) string {
	if c := CodeOf(err); searchReasons[c] {
		return c
	}
	var fe *fault.Error
	if fault.KindOf(err) != fault.Invalid || !errors.As(err, &fe) {
		return ""
	}
	switch f := fe.Field; {
	case strings.HasPrefix(f, "sort"):
		return RjctSortInvalid
	case strings.HasPrefix(f, "pagination"):
		return RjctPaginationInvalid
	case strings.HasPrefix(f, "reference_id"):
		return RjctReferenceIDInvalid
	case strings.HasPrefix(f, "timestamp"):
		return RjctTimestampInvalid
	}
	return RjctCriteriaInvalid
}

// maxMessage is the spec's bound on error and status_reason messages.
const maxMessage = 999

// SafeMessage is the text of err that may be shown to a partner: the field and message of
// a *fault.Error that is not internal, and a generic phrase otherwise, so causes stay in logs.
func SafeMessage(err error) string {
	var fe *fault.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "request timed out"
	case !errors.As(err, &fe) || fe.Kind == fault.Internal:
		return "internal error"
	}
	s := fe.Msg
	if fe.Field != "" {
		s = fe.Field + ": " + s
	}
	return truncate(s, maxMessage)
}

// truncate cuts s to at most n characters (runes, as JSON Schema's maxLength counts them).
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}
