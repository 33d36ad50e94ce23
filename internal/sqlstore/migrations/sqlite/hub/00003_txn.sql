-- DCI transactions: what partners asked, under which ids, the answer and its delivery
-- (internal/txn). Times are Unix nanoseconds; 0 is none.

-- +goose Up
CREATE TABLE dci_txns (
    correlation_id TEXT PRIMARY KEY,
    client         TEXT NOT NULL,
    sender         TEXT NOT NULL,
    message_id     TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    registry       TEXT NOT NULL,
    action         TEXT NOT NULL,
    mode           TEXT NOT NULL,
    status         TEXT NOT NULL,
    request        BLOB,
    response       BLOB,
    callback_uri   TEXT NOT NULL DEFAULT '',
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_attempt   INTEGER NOT NULL DEFAULT 0,
    delivered      INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT NOT NULL DEFAULT '',
    created        INTEGER NOT NULL,
    updated        INTEGER NOT NULL,
    UNIQUE (client, message_id)
);

CREATE INDEX dci_txns_transaction ON dci_txns (client, action, transaction_id, created);
CREATE INDEX dci_txns_due ON dci_txns (next_attempt) WHERE mode = 'async' AND delivered = 0 AND next_attempt > 0;

-- +goose Down
DROP TABLE dci_txns;
