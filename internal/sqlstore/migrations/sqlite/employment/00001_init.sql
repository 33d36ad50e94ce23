-- The employment source (issue #18): relations, the immediate declarations that made
-- them (their history), quarterly files and their wage lines (replaced ones kept).
-- Person and enterprise numbers are INTEGER, dates YYYYMMDD, times unix nanoseconds.

-- +goose Up
CREATE TABLE emp_relation (
    id            INTEGER PRIMARY KEY,
    person        INTEGER NOT NULL,
    employer      INTEGER NOT NULL,
    establishment TEXT    NOT NULL DEFAULT '',
    start_date    INTEGER NOT NULL,
    end_date      INTEGER NOT NULL,
    contract      TEXT    NOT NULL,
    fraction      REAL    NOT NULL,
    sector        TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    version       INTEGER NOT NULL
);
CREATE INDEX emp_relation_person ON emp_relation (person, employer, start_date);

CREATE TABLE emp_declaration (
    id          INTEGER PRIMARY KEY,
    relation    INTEGER NOT NULL REFERENCES emp_relation (id),
    person      INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    declared_by TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    late        INTEGER NOT NULL,
    event       INTEGER NOT NULL,
    doc         TEXT    NOT NULL, -- the declaration as recorded
    prior       TEXT              -- the relation before it, JSON; NULL for a hire
);
CREATE INDEX emp_declaration_person ON emp_declaration (person, id);

CREATE TABLE emp_file (
    id          INTEGER PRIMARY KEY,
    hash        TEXT    NOT NULL UNIQUE,
    quarter     INTEGER NOT NULL,
    declared_by TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    doc         TEXT    NOT NULL -- the file's summary and report, JSON
);

CREATE TABLE emp_wage (
    quarter      INTEGER NOT NULL,
    person       INTEGER NOT NULL,
    employer     INTEGER NOT NULL,
    file         INTEGER NOT NULL REFERENCES emp_file (id),
    line         INTEGER NOT NULL,
    wages        INTEGER NOT NULL,
    bonus        INTEGER NOT NULL,
    days         INTEGER NOT NULL,
    hours        REAL    NOT NULL,
    fraction     REAL    NOT NULL,
    contribution TEXT    NOT NULL,
    replaced     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (quarter, person, employer, file)
) WITHOUT ROWID;
CREATE INDEX emp_wage_person ON emp_wage (person, quarter);

-- +goose Down
DROP TABLE emp_wage;
DROP TABLE emp_file;
DROP TABLE emp_declaration;
DROP TABLE emp_relation;
