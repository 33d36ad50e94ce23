-- The person index rows of the latest audit records. They are appended with their
-- records, in seq order, so that a commit writes the end of this table rather than one
-- page of audit_persons for each person; every few thousand rows they are moved into
-- audit_persons, sorted, in one statement. Reads by person look in both.

-- +goose Up
CREATE TABLE audit_persons_recent (
    seq    bigint NOT NULL,
    person bigint NOT NULL
);

-- +goose Down
DROP TABLE audit_persons_recent;
