-- The SP-MIS of the old-age allowance (issue #21): registrations, the list of
-- beneficiaries, the identifier-to-account mapper and the payment instructions. The
-- programme's own data, in a database of its own in the demo. Dates YYYYMMDD, times
-- unix nanoseconds, amounts in minor units.

-- +goose Up
CREATE TABLE g2p_registration (
    id      TEXT    PRIMARY KEY,
    person  TEXT    NOT NULL,
    status  TEXT    NOT NULL,
    doc     TEXT    NOT NULL -- the registration and its steps, the code's hash only
);
CREATE INDEX g2p_registration_person ON g2p_registration (person);

CREATE TABLE g2p_beneficiary (
    person     TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    birth_date INTEGER NOT NULL,
    from_day   INTEGER NOT NULL,
    status     TEXT    NOT NULL,
    end_reason TEXT    NOT NULL,
    ended      INTEGER NOT NULL
);

CREATE TABLE g2p_mapping (
    person TEXT    PRIMARY KEY,
    fa     TEXT    NOT NULL,
    bank   TEXT    NOT NULL,
    name   TEXT    NOT NULL,
    linked INTEGER NOT NULL
);

CREATE TABLE g2p_instruction (
    ord      INTEGER PRIMARY KEY,
    id       TEXT    NOT NULL UNIQUE,
    cycle    TEXT    NOT NULL,
    person   TEXT    NOT NULL,
    payee    TEXT    NOT NULL,
    amount   INTEGER NOT NULL,
    currency TEXT    NOT NULL,
    day      INTEGER NOT NULL,
    status   TEXT    NOT NULL,
    reason   TEXT    NOT NULL,
    arrears  TEXT    NOT NULL,
    seq      INTEGER NOT NULL
);
CREATE INDEX g2p_instruction_cycle ON g2p_instruction (cycle, ord);
CREATE INDEX g2p_instruction_status ON g2p_instruction (status);
CREATE INDEX g2p_instruction_arrears ON g2p_instruction (arrears);

-- +goose Down
DROP TABLE g2p_instruction;
DROP TABLE g2p_mapping;
DROP TABLE g2p_beneficiary;
DROP TABLE g2p_registration;
