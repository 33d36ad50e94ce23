-- The additional benefits granting bodies report (#20, internal/benefits): every
-- version kept, one row a version; the current one of a reference is its largest
-- version. Person numbers are integers, dates YYYYMMDD, recorded_at unix nanoseconds.

-- +goose Up
CREATE TABLE benefit_report (
    id          INTEGER PRIMARY KEY,
    institution TEXT    NOT NULL,
    reference   TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    person      INTEGER  NOT NULL,
    right_id    TEXT    NOT NULL,
    benefit     TEXT    NOT NULL,
    from_date   INTEGER NOT NULL,
    until_date  INTEGER NOT NULL, -- 0: while it lasts
    client      TEXT    NOT NULL,
    recorded_at INTEGER  NOT NULL,
    UNIQUE (institution, reference, version)
);
CREATE INDEX benefit_report_person ON benefit_report (person, id);

-- +goose Down
DROP TABLE benefit_report;
