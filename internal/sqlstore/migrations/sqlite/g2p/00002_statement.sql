-- The bank statements the programme took (issue #21): a statement posted again is
-- recognised and changes nothing. key: "id:" and the bank's statement id.

-- +goose Up
CREATE TABLE g2p_statement (
    key   TEXT PRIMARY KEY,
    cycle TEXT NOT NULL
);

-- +goose Down
DROP TABLE g2p_statement;
