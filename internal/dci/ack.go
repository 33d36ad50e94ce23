package dci

import (
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Acknowledgement statuses.
const (
	AckOK  = "ACK"  // valid; the callback will follow
	AckNo  = "NACK" // valid; no callback will follow
	AckErr = "ERR"  // invalid; see Error
)

// Ack is the immediate answer to an asynchronous request:
// {"message":{"ack_status","timestamp","error":{code,message},"correlation_id"}}.
type Ack struct {
	Message AckMessage `json:"message"`
}

// AckMessage is the body of an Ack.
type AckMessage struct {
	AckStatus     string     `json:"ack_status"`
	Timestamp     string     `json:"timestamp"`
	Error         *ErrorBody `json:"error,omitempty"`
	CorrelationID string     `json:"correlation_id"`
}

// ErrorBody is the standard's Error object: an err.* code and a message of at most 999 characters.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// HTTPErrors is the body of 4xx and 5xx answers: {"errors":[{"code","message"}]}.
type HTTPErrors struct {
	Errors []ErrorBody `json:"errors"`
}

// NewAck acknowledges an accepted request; the callback will carry correlationID.
func NewAck(correlationID string, now time.Time) Ack {
	return Ack{Message: AckMessage{AckStatus: AckOK, Timestamp: Timestamp(now), CorrelationID: correlationID}}
}

// NewErrorAck refuses a request with ack_status ERR and the error's code and safe message.
// The standard requires a correlation_id even here; pass a fresh one.
func NewErrorAck(err error, correlationID string, now time.Time) Ack {
	b := NewErrorBody(err)
	return Ack{Message: AckMessage{AckStatus: AckErr, Timestamp: Timestamp(now), Error: &b, CorrelationID: correlationID}}
}

// NewErrorBody is the Error object for err: CodeOf(err) and SafeMessage(err). A search
// reason code (rjct.*) is not a message code; such errors get ErrorCode of their kind.
func NewErrorBody(err error) ErrorBody {
	c := CodeOf(err)
	if searchReasons[c] {
		c = ErrorCode(fault.KindOf(err))
	}
	return ErrorBody{Code: c, Message: SafeMessage(err)}
}

// NewHTTPErrors is the body of an HTTP error answer for err.
func NewHTTPErrors(err error) HTTPErrors {
	return HTTPErrors{Errors: []ErrorBody{NewErrorBody(err)}}
}
