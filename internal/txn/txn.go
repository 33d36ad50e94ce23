// Package txn keeps the state of the hub's DCI transactions: what a partner asked, under
// which ids, how far the hub got, the answer, and its delivery to the partner's callback.
// From it the hub answers txn/status at any time (also after a restart), resumes the
// asynchronous work a restart interrupted, and answers a repeated message without
// processing it twice.
package txn

import (
	"context"
	"time"
)

// Statuses of a transaction, as the standard's RequestStatus.
const (
	Received = "rcvd" // accepted, not yet processed
	Pending  = "pdng" // being processed
	Success  = "succ" // answered
	Rejected = "rjct" // refused as a whole
)

// Modes of a transaction.
const (
	Sync  = "sync"  // answered in the HTTP response
	Async = "async" // acknowledged, answered by a callback to CallbackURI
)

// Txn is one DCI message the hub received and answers.
type Txn struct {
	CorrelationID string // issued by the hub; unique
	Client        string // the authenticated application that sent it
	Sender        string // its header.sender_id
	MessageID     string
	TransactionID string
	Registry      string // crvs, sr, ibr, dr, fr
	Action        string // search, subscribe, unsubscribe
	Mode          string // Sync or Async
	Status        string // Received, Pending, Success, Rejected
	Request       []byte // the message as received, to process it (also after a restart)
	Response      []byte // the answer (sync) or the callback (async); nil until answered
	CallbackURI   string // async: where the callback goes
	Attempts      int    // callback deliveries tried
	NextAttempt   time.Time
	Delivered     time.Time // when the partner accepted the callback; zero until then
	LastError     string    // why the last delivery failed
	Created       time.Time
	Updated       time.Time
}

// Answered reports whether t has its answer.
func (t Txn) Answered() bool { return t.Status == Success || t.Status == Rejected }

// Store keeps transactions.
type Store interface {
	// Create stores a new transaction. When the client already sent t.MessageID, it
	// stores nothing and returns the earlier transaction with a fault.Conflict error.
	Create(ctx context.Context, t Txn) (Txn, error)
	// Get returns the transaction of a correlation id, or fault.NotFound.
	Get(ctx context.Context, correlationID string) (Txn, error)
	// ByTransaction returns the client's first transaction of action with transactionID,
	// or fault.NotFound.
	ByTransaction(ctx context.Context, client, action, transactionID string) (Txn, error)
	// Update writes the progress of t: status, request, response, attempts, next attempt,
	// delivery, last error, updated. fault.NotFound when it does not exist.
	Update(ctx context.Context, t Txn) error
	// Due lists up to limit asynchronous transactions with work to do at now: not yet
	// answered, or answered and not delivered with NextAttempt ≤ now; oldest first. The
	// listing holds the correlation id, client, status, attempts, next attempt and
	// update time, not the request or the answer: Get reads a transaction whole.
	Due(ctx context.Context, now time.Time, limit int) ([]Txn, error)
}
