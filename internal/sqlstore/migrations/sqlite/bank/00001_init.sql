-- The demo bank (issue #21): its accounts and the payments it booked. A bank of its own:
-- the hub's tables hold no account number. Dates YYYYMMDD; amounts in minor units.

-- +goose Up
CREATE TABLE bank_account (
    iban       TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    person     TEXT    NOT NULL,
    birth_date INTEGER NOT NULL,
    closed     INTEGER NOT NULL
);

CREATE TABLE bank_posting (
    seq       INTEGER PRIMARY KEY,
    id        TEXT    NOT NULL UNIQUE, -- the instruction's end-to-end id: paid once
    batch     TEXT    NOT NULL,
    payer     TEXT    NOT NULL,
    payee     TEXT    NOT NULL,
    amount    INTEGER NOT NULL,
    currency  TEXT    NOT NULL,
    day       INTEGER NOT NULL,
    remit     TEXT    NOT NULL,
    status    TEXT    NOT NULL,
    reason    TEXT    NOT NULL,
    bank_ref  TEXT    NOT NULL,
    booked    INTEGER NOT NULL
);
CREATE INDEX bank_posting_statement ON bank_posting (payer, booked, seq);

-- +goose Down
DROP TABLE bank_posting;
DROP TABLE bank_account;
