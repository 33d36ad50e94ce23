-- A social-risk declaration is taken once (issue #18, an outsider's finding): two
-- identical declarations arriving at the same instant both passed the check made before
-- the transaction. The key (employment.RiskDeclaration.Key: employer, risk, phase, day,
-- case) is unique per worker, so the store refuses the second whatever the timing.
-- Declarations recorded before have no key (NULL keys never collide).

-- +goose Up
ALTER TABLE emp_risk ADD COLUMN dedup TEXT;
CREATE UNIQUE INDEX emp_risk_once ON emp_risk (person, dedup);

-- +goose Down
DROP INDEX emp_risk_once;
ALTER TABLE emp_risk DROP COLUMN dedup;
