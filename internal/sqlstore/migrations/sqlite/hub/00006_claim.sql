-- Ids that may be used once within a window, shared by the replicas of the hub on one
-- database: the message ids of synchronous calls (scope "message:<client>", httpapi
-- recent.go) and the jti of client assertions (scope "assertion:<client>", oauth
-- replay.go). A row older than its window is taken over or purged. at is Unix
-- nanoseconds.

-- +goose Up
CREATE TABLE claim (
    scope text   NOT NULL,
    id    text   NOT NULL,
    at    bigint NOT NULL,
    PRIMARY KEY (scope, id)
);
CREATE INDEX claim_at ON claim (at);

-- +goose Down
DROP TABLE claim;
