-- The audit log: every exchange as canonical JSON, the stored hashes of its Merkle tree
-- (golang.org/x/mod/sumdb/tlog: index → hash), the signed checkpoints, and the index of
-- records by person number for "who consulted my data".
-- Bodies are bytea, not json, so that they come back byte for byte as hashed.

-- +goose Up
CREATE TABLE audit_records (
    seq  bigint PRIMARY KEY,
    body bytea  NOT NULL
);

CREATE TABLE audit_hashes (
    idx  bigint PRIMARY KEY,
    hash bytea  NOT NULL CHECK (length(hash) = 32)
);

CREATE TABLE audit_checkpoints (
    size       bigint PRIMARY KEY,
    note       text   NOT NULL,
    created_at bigint NOT NULL
);

CREATE TABLE audit_persons (
    person bigint NOT NULL,
    seq    bigint NOT NULL,
    PRIMARY KEY (person, seq)
);

-- +goose Down
DROP TABLE audit_persons;
DROP TABLE audit_checkpoints;
DROP TABLE audit_hashes;
DROP TABLE audit_records;
