-- The population register: persons, vital events, places, and the ledger of issued numbers.
-- The person's full record is the JSON doc; the other person columns are copies kept for indexes.

-- +goose Up
CREATE TABLE person (
    number       INTEGER PRIMARY KEY,
    brn          TEXT UNIQUE,
    municipality TEXT    NOT NULL DEFAULT '',
    birth_date   INTEGER NOT NULL DEFAULT 0,
    death_date   INTEGER NOT NULL DEFAULT 0,
    household    TEXT    NOT NULL DEFAULT '',
    doc          TEXT    NOT NULL
);
CREATE INDEX person_municipality ON person (municipality, number);
CREATE INDEX person_household ON person (household);

CREATE TABLE event (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    type        TEXT    NOT NULL,
    person      INTEGER NOT NULL,
    event_date  INTEGER NOT NULL,
    data        TEXT,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX event_person ON event (person, seq);

CREATE TABLE place (
    code   TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    kind   TEXT NOT NULL,
    parent TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE TABLE issued (
    kind   TEXT NOT NULL,
    number TEXT NOT NULL,
    PRIMARY KEY (kind, number)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE issued;
DROP TABLE place;
DROP TABLE event;
DROP TABLE person;
