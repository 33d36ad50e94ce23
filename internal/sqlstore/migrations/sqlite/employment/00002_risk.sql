-- Social-risk declarations (issue #18): routed to the competent institution, which
-- acknowledges them. The declaration as recorded is the JSON doc; the columns are what
-- is searched.

-- +goose Up
CREATE TABLE emp_risk (
    id          INTEGER PRIMARY KEY,
    person      INTEGER NOT NULL,
    employer    INTEGER NOT NULL,
    case_id     INTEGER NOT NULL, -- the start's id (its own for a start)
    institution TEXT    NOT NULL, -- the competent institution
    status      TEXT    NOT NULL,
    doc         TEXT    NOT NULL
);
CREATE INDEX emp_risk_person ON emp_risk (person, id);
CREATE INDEX emp_risk_institution ON emp_risk (institution, status, id);

-- +goose Down
DROP TABLE emp_risk;
