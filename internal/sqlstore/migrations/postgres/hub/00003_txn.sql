-- DCI transactions: what partners asked, under which ids, the answer and its delivery
-- (internal/txn). Times are Unix nanoseconds; 0 is none.

-- +goose Up
CREATE TABLE dci_txns (
    correlation_id text PRIMARY KEY,
    client         text NOT NULL,
    sender         text NOT NULL,
    message_id     text NOT NULL,
    transaction_id text NOT NULL,
    registry       text NOT NULL,
    action         text NOT NULL,
    mode           text NOT NULL,
    status         text NOT NULL,
    request        bytea,
    response       bytea,
    callback_uri   text NOT NULL DEFAULT '',
    attempts       bigint NOT NULL DEFAULT 0,
    next_attempt   bigint NOT NULL DEFAULT 0,
    delivered      bigint NOT NULL DEFAULT 0,
    last_error     text NOT NULL DEFAULT '',
    created        bigint NOT NULL,
    updated        bigint NOT NULL,
    UNIQUE (client, message_id)
);

CREATE INDEX dci_txns_transaction ON dci_txns (client, action, transaction_id, created);
CREATE INDEX dci_txns_due ON dci_txns (next_attempt) WHERE mode = 'async' AND delivered = 0 AND next_attempt > 0;

-- +goose Down
DROP TABLE dci_txns;
