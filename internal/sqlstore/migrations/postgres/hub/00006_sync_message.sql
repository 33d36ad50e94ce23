-- The message ids of recent synchronous calls, shared by the replicas of the hub on one
-- database (internal/httpapi recent.go): a repeated message id is refused by whichever
-- replica gets it. Rows older than the window are replaced or purged. seen is Unix
-- nanoseconds.

-- +goose Up
CREATE TABLE sync_message (
    client     text   NOT NULL,
    message_id text   NOT NULL,
    seen       bigint NOT NULL,
    PRIMARY KEY (client, message_id)
);
CREATE INDEX sync_message_seen ON sync_message (seen);

-- +goose Down
DROP TABLE sync_message;
