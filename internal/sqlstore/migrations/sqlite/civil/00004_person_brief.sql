-- A national run of the rights engine reads every person's brief (number, municipality,
-- dates, household, sex, count of declared changes) in number order. The sex and the
-- count live in the JSON doc, so the run read the whole document of every person (about
-- 170,000 table pages for a million persons). They are now generated columns, kept true
-- by SQLite whatever writes the doc, and the brief is a covering index: a national read
-- walks the index alone (the rowid table is not touched), about a tenth of the pages.
-- The expressions give what the Go reader of the doc gave (sqlstore.briefDoc): the sex
-- when it is a string, else ''; the count when it is a number (truncated), else 0.

-- +goose Up
ALTER TABLE person ADD COLUMN sex TEXT NOT NULL GENERATED ALWAYS AS (
    CASE WHEN json_valid(doc) AND json_type(doc, '$.sex') = 'text' THEN json_extract(doc, '$.sex') ELSE '' END) VIRTUAL;
ALTER TABLE person ADD COLUMN registry_changes INTEGER NOT NULL GENERATED ALWAYS AS (
    CASE WHEN json_valid(doc) AND json_type(doc, '$.registry_changes') IN ('integer', 'real')
    THEN CAST(json_extract(doc, '$.registry_changes') AS INTEGER) ELSE 0 END) VIRTUAL;
CREATE INDEX person_brief ON person (number, municipality, birth_date, death_date, household, sex, registry_changes);

-- +goose Down
DROP INDEX person_brief;
ALTER TABLE person DROP COLUMN registry_changes;
ALTER TABLE person DROP COLUMN sex;
