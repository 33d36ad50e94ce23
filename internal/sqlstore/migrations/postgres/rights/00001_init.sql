-- Decisions of the rights engine (issue #19): only changes, history kept. The current
-- decision of a person on a right is the row with the largest id for them. Person
-- numbers are INTEGER, dates YYYYMMDD, decided_at unix seconds.

-- +goose Up
CREATE TABLE rights_decision (
    id             BIGSERIAL PRIMARY KEY,
    person         BIGINT NOT NULL,
    right_id       TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    result         TEXT    NOT NULL,
    effective      INTEGER NOT NULL,
    decided_at     BIGINT NOT NULL,
    institution    TEXT    NOT NULL,
    region         TEXT    NOT NULL,
    age_band       TEXT    NOT NULL,
    household_type TEXT    NOT NULL,
    facts          TEXT    NOT NULL -- JSON array of the facts used
);
CREATE INDEX rights_decision_person ON rights_decision (person, right_id, id);

CREATE TABLE rights_progress (
    job  TEXT PRIMARY KEY,
    last TEXT NOT NULL
);

-- +goose Down
DROP TABLE rights_progress;
DROP TABLE rights_decision;
