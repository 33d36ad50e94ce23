-- A batch of audit records writes one table: each record row carries the stored hashes
-- of the Merkle tree that it adds (tlog: its leaf hash, then one per subtree it
-- completes, 32 bytes each) and the persons it concerns (",k1,k2,", person number keys).
-- Every few thousand records their persons go into audit_persons; audit_index.moved is
-- the last record indexed so. Records written before keep hashes and persons NULL: their
-- hashes stay in audit_hashes and their persons in audit_persons(_recent), which reads
-- still consult.

-- +goose Up
ALTER TABLE audit_records ADD COLUMN hashes bytea;
ALTER TABLE audit_records ADD COLUMN persons text;
CREATE TABLE audit_index (moved bigint NOT NULL);
INSERT INTO audit_index (moved) SELECT COALESCE(MAX(seq), 0) FROM audit_records;

-- +goose Down
-- Put the hashes and the persons back where the previous version reads them. The
-- stored-hash index of record seq's first hash is the sum of (seq-1) >> k for k ≥ 0.
INSERT INTO audit_hashes (idx, hash)
WITH RECURSIVE sums(seq, v, acc) AS (
    SELECT seq, seq - 1, 0::bigint FROM audit_records WHERE hashes IS NOT NULL
    UNION ALL SELECT seq, v >> 1, acc + v FROM sums WHERE v > 0
)
SELECT s.acc + l.lvl, substring(r.hashes FROM l.lvl * 32 + 1 FOR 32)
FROM sums s JOIN audit_records r ON r.seq = s.seq
CROSS JOIN LATERAL generate_series(0, length(r.hashes) / 32 - 1) AS l(lvl)
WHERE s.v = 0;
INSERT INTO audit_persons_recent (seq, person)
SELECT seq, unnest(string_to_array(trim(BOTH ',' FROM persons), ','))::bigint FROM audit_records
WHERE persons IS NOT NULL AND seq > (SELECT moved FROM audit_index);
DROP TABLE audit_index;
ALTER TABLE audit_records DROP COLUMN persons;
ALTER TABLE audit_records DROP COLUMN hashes;
