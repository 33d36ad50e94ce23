-- The hub's routing data: directory records, their history, and the person directory.
-- Times are unix nanoseconds; dates are YYYYMMDD integers; person numbers are integers.

-- +goose Up
CREATE TABLE record (
    kind       TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    owner      TEXT    NOT NULL DEFAULT '',
    doc        TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT    NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX record_owner ON record (kind, owner, key);

CREATE TABLE history (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    op         TEXT    NOT NULL,
    before_doc TEXT,
    after_doc  TEXT
);
CREATE INDEX history_kind ON history (kind, seq);
CREATE INDEX history_key ON history (kind, key, seq);

-- end_date is 99991231 while the period is open, so that overlap checks are plain comparisons.
CREATE TABLE integration (
    person      INTEGER NOT NULL,
    institution TEXT    NOT NULL,
    capacity    TEXT    NOT NULL,
    begin_date  INTEGER NOT NULL,
    end_date    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL,
    PRIMARY KEY (person, institution, capacity, begin_date)
) WITHOUT ROWID;
CREATE INDEX integration_institution ON integration (institution, person);

-- Periods of one person, institution and capacity never overlap (both ends included).
-- The check lives here because a plain INSERT with this trigger is much faster on SQLite
-- than INSERT … SELECT … WHERE NOT EXISTS, which copies the SELECT into a temporary table.
-- +goose StatementBegin
CREATE TRIGGER integration_no_overlap BEFORE INSERT ON integration
WHEN EXISTS (SELECT 1 FROM integration
    WHERE person = NEW.person AND institution = NEW.institution AND capacity = NEW.capacity
      AND begin_date <= NEW.end_date AND end_date >= NEW.begin_date)
BEGIN
    SELECT RAISE(ABORT, 'integration periods overlap');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE integration;
DROP TABLE history;
DROP TABLE record;
