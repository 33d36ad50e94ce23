-- The audit log: every exchange as canonical JSON, the stored hashes of its Merkle tree
-- (golang.org/x/mod/sumdb/tlog: index → hash), the signed checkpoints, and the index of
-- records by person number for "who consulted my data".

-- +goose Up
CREATE TABLE audit_records (
    seq  INTEGER PRIMARY KEY,
    body BLOB    NOT NULL
);

CREATE TABLE audit_hashes (
    idx  INTEGER PRIMARY KEY,
    hash BLOB    NOT NULL CHECK (length(hash) = 32)
);

CREATE TABLE audit_checkpoints (
    size       INTEGER PRIMARY KEY,
    note       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE audit_persons (
    person INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (person, seq)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE audit_persons;
DROP TABLE audit_checkpoints;
DROP TABLE audit_hashes;
DROP TABLE audit_records;
