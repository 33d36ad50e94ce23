-- Each event keeps the person's record as its change left it (the doc, as person.doc
-- holds it), so that the change is pushed as it was, whatever was recorded after it.
-- Events recorded before have none.

-- +goose Up
ALTER TABLE event ADD COLUMN person_after json;

-- +goose Down
ALTER TABLE event DROP COLUMN person_after;
