-- A national run compares each batch of persons with the rights they hold, read in one
-- range of the person index. The rows hold the decision's facts (a few hundred bytes of
-- JSON), so the range touched every row of the table; the index now holds the result
-- too, and the range is read from the index alone (rightsStore.HeldBetween). It
-- replaces the index on (person, right_id, id), which is its prefix.

-- +goose Up
CREATE INDEX rights_decision_current ON rights_decision (person, right_id, id, result);
DROP INDEX rights_decision_person;

-- +goose Down
CREATE INDEX rights_decision_person ON rights_decision (person, right_id, id);
DROP INDEX rights_decision_current;
