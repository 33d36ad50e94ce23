package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/employment"
)

// Pending income events.
//
// Every change appends its event with the person as the change left it
// (event.person_after), so the outbox pushes the change as it was whatever was recorded
// after it. A quarterly file on SQLite appends one income event per worker, a million for
// a national file, and an income changes nothing of the person but, the first time, its
// count of registry changes; copying each worker's record into its event was a third of
// the store's work on the file. So on SQLite those events are written without the copy,
// pending, and the rule that keeps them exact is this: before any write of a person's
// record (writePerson: a change recorded, RecordCouple's other person, an immediate
// declaration's hire or exit; a bulk PutPersons), the person's pending
// incomes are given the record as it is, before the write (freezePending). A pending
// income's person is therefore the person as it is now, which EventsAfter reads in the
// same statement, hence the same snapshot, as the event. SQLite has one writer, so no
// write can slip between the file's transaction and the freeze; PostgreSQL, whose
// transactions run side by side, keeps the copy (incomesBulk).
//
// Pending incomes are always the person's last events after the last one that carries
// the person: each freeze fills every pending one. Events stored before the person was
// kept (migration 3 of the civil schema) carry none and are left as they were, but for
// incomes, read with the person as it is now, as before.

// pendingType is the type of the events that may be pending.
const pendingType = employment.EventIncome

// freezePending gives the pending incomes of the person numbered key the person's record
// as it is in tx, before tx writes it. It reads the person's events from the latest
// back to the latest that carries the person: the pending ones, usually none or a
// quarter's income.
func freezePending(ctx context.Context, db *DB, tx *sql.Tx, key int64) error {
	if db.dialect == Postgres {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, type = '`+pendingType+`', person_after IS NOT NULL FROM event WHERE person = ? ORDER BY seq DESC`, key)
	if err != nil {
		return mapErr(err, "freeze pending events")
	}
	var seqs []any
	for rows.Next() {
		var seq int64
		var income, kept bool
		if err := rows.Scan(&seq, &income, &kept); err != nil {
			rows.Close()
			return mapErr(err, "freeze pending events")
		}
		if kept {
			break
		}
		if income {
			seqs = append(seqs, seq)
		}
	}
	if err := rows.Close(); err != nil {
		return mapErr(err, "freeze pending events")
	}
	if len(seqs) == 0 {
		return nil
	}
	_, err = tx.ExecContext(ctx, `UPDATE event SET person_after = (SELECT doc FROM person WHERE number = ?)
WHERE seq IN (?`+strings.Repeat(", ?", len(seqs)-1)+`)`, append([]any{key}, seqs...)...)
	return mapErr(err, "freeze pending events")
}

// freezePendingMany is freezePending for persons about to be replaced in bulk
// (PutPersons), one statement for them all: each person's events are looked at.
func freezePendingMany(ctx context.Context, db *DB, tx *sql.Tx, keys []any) error {
	if db.dialect == Postgres || len(keys) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE event SET person_after = (SELECT doc FROM person WHERE number = event.person)
WHERE person IN (?`+strings.Repeat(", ?", len(keys)-1)+`) AND type = '`+pendingType+`' AND person_after IS NULL`, keys...)
	return mapErr(err, "freeze pending events")
}
