-- Searches by place and birth date ("born before 1950 in region R01") read an index
-- range per municipality instead of every person of the municipality.

-- +goose Up
CREATE INDEX person_municipality_birth ON person (municipality, birth_date);

-- +goose Down
DROP INDEX person_municipality_birth;
