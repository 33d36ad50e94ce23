-- The latest checkpoint each witness cosigned (POST /audit/cosignatures), kept in the
-- store so that every replica of the hub serves what was handed to any of them; a row
-- is replaced only by a larger checkpoint. The file beside the published checkpoint
-- keeps them too, outside the store (package audit, published.go).

-- +goose Up
CREATE TABLE audit_cosigned (
    witness    text   PRIMARY KEY,
    size       bigint NOT NULL,
    note       text   NOT NULL,
    created_at bigint NOT NULL
);

-- +goose Down
DROP TABLE audit_cosigned;
