-- The hub's routing data: directory records, their history, and the person directory.
-- Times are unix nanoseconds; dates are YYYYMMDD integers; person numbers are integers.
-- Documents are json, not jsonb, so that they come back byte for byte as written.

-- +goose Up
CREATE TABLE record (
    kind       text   NOT NULL,
    key        text   NOT NULL,
    owner      text   NOT NULL DEFAULT '',
    doc        json   NOT NULL,
    version    bigint NOT NULL,
    updated_at bigint NOT NULL,
    updated_by text   NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX record_owner ON record (kind, owner, key);

CREATE TABLE history (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         bigint NOT NULL,
    actor      text   NOT NULL,
    kind       text   NOT NULL,
    key        text   NOT NULL,
    op         text   NOT NULL,
    before_doc json,
    after_doc  json
);
CREATE INDEX history_kind ON history (kind, seq);
CREATE INDEX history_key ON history (kind, key, seq);

-- end_date is 99991231 while the period is open, so that overlap checks are plain comparisons.
CREATE TABLE integration (
    person      bigint  NOT NULL,
    institution text    NOT NULL,
    capacity    text    NOT NULL,
    begin_date  integer NOT NULL,
    end_date    integer NOT NULL,
    created_at  bigint  NOT NULL,
    created_by  text    NOT NULL,
    PRIMARY KEY (person, institution, capacity, begin_date)
);
CREATE INDEX integration_institution ON integration (institution, person);

-- +goose Down
DROP TABLE integration;
DROP TABLE history;
DROP TABLE record;
