package directory

import (
	"context"
	"encoding/json"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
)

// Record is one stored directory entity: its JSON document with its version.
type Record struct {
	Kind      Kind            `json:"kind"`
	Key       string          `json:"key"`
	Owner     string          `json:"owner,omitempty"`
	Doc       json.RawMessage `json:"doc"`
	Version   int64           `json:"version"` // 1 on creation, +1 on every change
	UpdatedAt time.Time       `json:"updated_at"`
	UpdatedBy string          `json:"updated_by"`
}

// Precondition of a write, checked in the write's transaction.
const (
	AnyVersion int64 = 0  // create or replace
	MustCreate int64 = -1 // fail with Conflict if the record exists
)

// ListQuery selects records of one kind in key order.
type ListQuery struct {
	Owner string // only records owned by this institution; "" for all
	After string // keys strictly after this one (the cursor of the previous page)
	Limit int    // at most this many; the store caps it
}

// Change is one entry of the history: what changed, when, by whom, before and after.
type Change struct {
	Seq    int64           `json:"seq"`
	At     time.Time       `json:"at"`
	Actor  string          `json:"actor"`
	Kind   Kind            `json:"kind"`
	Key    string          `json:"key"`
	Op     string          `json:"op"` // create, update, delete, integrate, end
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
}

// HistoryQuery selects history entries in sequence order.
type HistoryQuery struct {
	Kind  Kind   // "" for all
	Key   string // "" for all of the kind
	After int64  // entries with Seq strictly greater
	Limit int
}

// Store keeps the directory. Every write appends to the history in the same transaction.
type Store interface {
	// PutRecord creates or replaces r; ifVersion is AnyVersion, MustCreate, or the version
	// the caller read (optimistic locking). It returns the record as stored.
	PutRecord(ctx context.Context, actor string, r Record, ifVersion int64) (Record, error)
	// CreateRecords creates records that must not exist yet, in one transaction, with a
	// history entry each (bulk loading); one that exists fails the whole call (Conflict).
	CreateRecords(ctx context.Context, actor string, rs []Record) error
	// DeleteRecord removes a record, keeping its last state in the history.
	DeleteRecord(ctx context.Context, actor string, kind Kind, key string) error
	// GetRecord returns one record or a NotFound fault.
	GetRecord(ctx context.Context, kind Kind, key string) (Record, error)
	// ListRecords returns records of a kind in key order.
	ListRecords(ctx context.Context, kind Kind, q ListQuery) ([]Record, error)
	// History returns changes in sequence order.
	History(ctx context.Context, q HistoryQuery) ([]Change, error)

	PersonDirectory
}

// PersonDirectory is the part of the store that holds integrations.
type PersonDirectory interface {
	// Integrate applies a batch of integration lines in one transaction. With Atomic,
	// one bad line rejects the whole batch; otherwise good lines are kept. The report
	// has one result per line, in order. Lines must already be validated (Line.Check).
	Integrate(ctx context.Context, actor string, lines []Line, mode BatchMode) (Report, error)
	// Files answers "which institutions have a file on person, in which capacities, on day".
	Files(ctx context.Context, person string, day date.Date) ([]Integration, error)
	// Integrations lists integrations in (person, institution, capacity, begin) order.
	Integrations(ctx context.Context, q IntegrationQuery) ([]Integration, error)
	// EachIntegration calls fn for every integration, ended ones included (a question
	// may be about a past day), for building in-memory indexes; it stops at the first
	// error fn returns.
	EachIntegration(ctx context.Context, fn func(Integration) error) error
}
