package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/txn"
)

// Txns returns the store of DCI transactions, kept in the hub schema.
func (db *DB) Txns() txn.Store { return &txnStore{db: db} }

type txnStore struct{ db *DB }

const txnColumns = `SELECT correlation_id, client, sender, message_id, transaction_id, registry, action, mode,
	status, request, response, callback_uri, attempts, next_attempt, delivered, last_error, created, updated FROM dci_txns `

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func (s *txnStore) Create(ctx context.Context, t txn.Txn) (txn.Txn, error) {
	if t.CorrelationID == "" || t.Client == "" || t.MessageID == "" {
		return t, fault.Invalidf("correlation_id", "correlation id, client and message id are required")
	}
	now := s.db.now()
	if t.Created.IsZero() {
		t.Created = now
	}
	t.Updated = t.Created
	st, err := s.db.stmt(ctx, s.db.w, `INSERT INTO dci_txns (correlation_id, client, sender, message_id,
		transaction_id, registry, action, mode, status, request, response, callback_uri, attempts, next_attempt,
		delivered, last_error, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return t, mapErr(err, "record the transaction")
	}
	_, err = st.ExecContext(ctx, t.CorrelationID, t.Client, t.Sender, t.MessageID, t.TransactionID, t.Registry, t.Action, t.Mode, t.Status,
		t.Request, t.Response, t.CallbackURI, t.Attempts, nanos(t.NextAttempt), nanos(t.Delivered), t.LastError,
		nanos(t.Created), nanos(t.Updated))
	if err == nil {
		return t, nil
	}
	err = mapErr(err, "record the transaction")
	if fault.KindOf(err) != fault.Conflict {
		return t, err
	}
	earlier, gerr := s.one(ctx, `WHERE client = ? AND message_id = ?`, t.Client, t.MessageID)
	if gerr != nil {
		return t, err // the conflict was on the correlation id
	}
	return earlier, fault.Conflictf("header.message_id", "message %.99q was already received", t.MessageID)
}

func (s *txnStore) Get(ctx context.Context, correlationID string) (txn.Txn, error) {
	return s.one(ctx, `WHERE correlation_id = ?`, correlationID)
}

func (s *txnStore) ByTransaction(ctx context.Context, client, action, transactionID string) (txn.Txn, error) {
	return s.one(ctx, `WHERE client = ? AND action = ? AND transaction_id = ? ORDER BY created LIMIT 1`, client, action, transactionID)
}

func (s *txnStore) one(ctx context.Context, where string, args ...any) (txn.Txn, error) {
	st, err := s.db.stmt(ctx, s.db.hot, txnColumns+where)
	if err != nil {
		return txn.Txn{}, mapErr(err, "read a transaction")
	}
	t, err := scanTxn(st.QueryRowContext(ctx, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fault.NotFoundf("no such transaction")
	}
	return t, mapErr(err, "read a transaction")
}

func (s *txnStore) Update(ctx context.Context, t txn.Txn) error {
	t.Updated = s.db.now()
	st, err := s.db.stmt(ctx, s.db.w, `UPDATE dci_txns SET status = ?, request = ?, response = ?, attempts = ?,
		next_attempt = ?, delivered = ?, last_error = ?, updated = ? WHERE correlation_id = ?`)
	if err != nil {
		return mapErr(err, "update a transaction")
	}
	res, err := st.ExecContext(ctx, t.Status, t.Request, t.Response, t.Attempts, nanos(t.NextAttempt), nanos(t.Delivered), t.LastError,
		nanos(t.Updated), t.CorrelationID)
	if err != nil {
		return mapErr(err, "update a transaction")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.NotFoundf("no transaction %.99q", t.CorrelationID)
	}
	return nil
}

// Due lists without the request and the answer (txn.Store): the worker reads the list
// every time a search arrives, mostly to skip what it is already doing.
func (s *txnStore) Due(ctx context.Context, now time.Time, limit int) ([]txn.Txn, error) {
	st, err := s.db.stmt(ctx, s.db.hot, `SELECT correlation_id, client, status, attempts, next_attempt, updated FROM dci_txns
		WHERE mode = 'async' AND delivered = 0 AND next_attempt > 0 AND next_attempt <= ? ORDER BY next_attempt LIMIT ?`)
	if err != nil {
		return nil, mapErr(err, "list due transactions")
	}
	rows, err := st.QueryContext(ctx, now.UnixNano(), limit)
	if err != nil {
		return nil, mapErr(err, "list due transactions")
	}
	defer rows.Close()
	out := []txn.Txn{}
	for rows.Next() {
		t := txn.Txn{Mode: txn.Async}
		var next, updated int64
		if err := rows.Scan(&t.CorrelationID, &t.Client, &t.Status, &t.Attempts, &next, &updated); err != nil {
			return nil, mapErr(err, "list due transactions")
		}
		t.NextAttempt, t.Updated = fromNanos(next), fromNanos(updated)
		out = append(out, t)
	}
	return out, mapErr(rows.Err(), "list due transactions")
}

func scanTxn(row scanner) (txn.Txn, error) {
	var t txn.Txn
	var next, delivered, created, updated int64
	err := row.Scan(&t.CorrelationID, &t.Client, &t.Sender, &t.MessageID, &t.TransactionID, &t.Registry, &t.Action,
		&t.Mode, &t.Status, &t.Request, &t.Response, &t.CallbackURI, &t.Attempts, &next, &delivered, &t.LastError,
		&created, &updated)
	t.NextAttempt, t.Delivered, t.Created, t.Updated = fromNanos(next), fromNanos(delivered), fromNanos(created), fromNanos(updated)
	return t, err
}
