package sqlstore_test

import (
	"context"
	"slices"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

func TestAudit(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			audittest.Run(t, func(t *testing.T) (audit.Store, audittest.Tamperer) {
				db := b.open(t, sqlstore.Hub)
				return db.Audit(), db.AuditTamperer()
			})
		})
		// The same with the recent person index rows moved every 3 rows, so that reads
		// by person find records in both tables.
		t.Run(b.name+"/moving", func(t *testing.T) {
			audittest.Run(t, func(t *testing.T) (audit.Store, audittest.Tamperer) {
				db := b.open(t, sqlstore.Hub)
				db.SetAuditMoveRows(3)
				return db.Audit(), db.AuditTamperer()
			})
		})
	}
}

// TestAuditPersonForms checks that the person index is kept by number: a record found
// under any written form of a person number, one row for two forms in one record, and
// names that are not person numbers recorded but not indexed.
func TestAuditPersonForms(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t, sqlstore.Hub).Audit()
			l := audittest.OpenLog(t, s, audit.Config{})
			p, err := ident.ParsePerson(audittest.Person(3))
			if err != nil {
				t.Fatal(err)
			}
			for _, persons := range [][]string{
				{p.String(), p.Format()},
				{"not-a-number", p.Format()},
			} {
				if _, err := l.Append(ctx, audittest.Record(1, persons...)); err != nil {
					t.Fatalf("Append(%v): %v", persons, err)
				}
			}
			for _, form := range []string{p.String(), p.Format()} {
				rs, err := l.ByPerson(ctx, form, 0, 10)
				var got []int64
				for _, r := range rs {
					got = append(got, r.Seq)
				}
				if err != nil || !slices.Equal(got, []int64{1, 2}) {
					t.Errorf("ByPerson(%q) = seqs %v, %v; want [1 2]", form, got, err)
				}
			}
			if _, err := l.ByPerson(ctx, "not-a-number", 0, 10); fault.KindOf(err) != fault.Invalid {
				t.Errorf("ByPerson(not a number) = %v; want Invalid", err)
			}
		})
	}
}

// TestAuditUpgrade writes records, goes down to the layout before record rows carried
// their hashes and persons (version 4) and up again (to 5, then to the compact layout),
// then writes more: records of both layouts verify, give evidence, and are found by
// person before and after their persons are indexed.
func TestAuditUpgrade(t *testing.T) {
	ctx := context.Background()
	persons := func(i int) []string { return []string{audittest.Person(i % 7)} }
	want := func(n int) (seqs []int64) { // the records about Person(3) among the first n
		for i := range n {
			if i%7 == 3 {
				seqs = append(seqs, int64(i)+1)
			}
		}
		return seqs
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t, sqlstore.Hub)
			s := db.Audit()
			audittest.Append(t, audittest.OpenLog(t, s, audit.Config{}), 0, 40, persons)
			for _, v := range []int64{4, 5, latest} {
				if err := db.MigrateTo(ctx, sqlstore.Hub, v); err != nil {
					t.Fatalf("migrate to %d: %v", v, err)
				}
			}
			audittest.MustVerify(t, s)
			checkByPerson(t, s, want(40))
			db.SetAuditMoveRows(25)
			l := audittest.OpenLog(t, s, audit.Config{})
			audittest.Append(t, l, 40, 60, persons) // 20 records: not indexed yet
			checkByPerson(t, s, want(60))
			audittest.Append(t, l, 60, 70, persons) // the 25th indexes them, and the old rows
			checkByPerson(t, s, want(70))
			audittest.MustVerify(t, s)
			_, vkey := audittest.Signer(t, 1)
			if _, err := l.CheckpointNow(ctx); err != nil {
				t.Fatal(err)
			}
			for _, seq := range []int64{1, 39, 40, 41, 64, 70} {
				ev, err := l.Evidence(ctx, seq)
				if err != nil {
					t.Fatalf("Evidence(%d): %v", seq, err)
				}
				if _, err := audit.VerifyEvidence(ev, vkey); err != nil {
					t.Errorf("VerifyEvidence(%d): %v", seq, err)
				}
			}
		})
	}
}

// TestAuditMoveBounded: records naming many persons are indexed a bounded number of
// rows a transaction (a move of thousands of records naming a thousand persons each
// outlasted the store's time-out); the records not moved yet are found all the same.
func TestAuditMoveBounded(t *testing.T) {
	persons := func(i int) []string {
		return []string{audittest.Person(3), audittest.Person(4), audittest.Person(5), audittest.Person(6 + i)}
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t, sqlstore.Hub)
			db.SetAuditMoveRows(5)
			db.SetAuditMovePersons(10) // three records of four persons a move
			s := db.Audit()
			l := audittest.OpenLog(t, s, audit.Config{})
			audittest.Append(t, l, 0, 30, persons)
			var indexed int
			if err := db.RawQueryRow(context.Background(), `SELECT COUNT(*) FROM audit_persons`).Scan(&indexed); err != nil {
				t.Fatal(err)
			}
			if indexed == 0 || indexed >= 4*30 {
				t.Errorf("%d person rows indexed of %d; want some, and not all at once", indexed, 4*30)
			}
			all := make([]int64, 30)
			for i := range all {
				all[i] = int64(i + 1)
			}
			checkByPerson(t, s, all)
			audittest.MustVerify(t, s)
		})
	}
}

// latest is past the last migration: MigrateTo(latest) applies them all.
const latest = 1 << 62

// TestAuditCompactMigration writes records in the layout of version 6 (JSON bodies, the
// persons column, some persons not indexed yet), migrates to the compact layout and
// back: the log verifies at each step with the same root, ByPerson finds the same
// records, and the compact bodies take a fraction of the JSON's bytes.
func TestAuditCompactMigration(t *testing.T) {
	ctx := context.Background()
	persons := func(i int) []string { return []string{audittest.Person(i % 7)} }
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t, sqlstore.Hub)
			db.SetAuditMoveRows(30)
			s := db.Audit()
			l := audittest.OpenLog(t, s, audit.Config{})
			audittest.Append(t, l, 0, 50, persons) // 30 indexed, 20 not yet
			if _, err := l.CheckpointNow(ctx); err != nil {
				t.Fatal(err)
			}
			root := audittest.MustVerify(t, s).Root
			compact := bodyBytes(t, db)
			if err := db.MigrateTo(ctx, sqlstore.Hub, 6); err != nil {
				t.Fatalf("migrate down to 6: %v", err)
			}
			json := bodyBytes(t, db)
			if rep := audittest.MustVerify(t, s); rep.Root != root {
				t.Fatalf("root after the way down = %v; want %v", rep.Root, root)
			}
			if err := db.MigrateTo(ctx, sqlstore.Hub, latest); err != nil {
				t.Fatalf("migrate up: %v", err)
			}
			if rep := audittest.MustVerify(t, s); rep.Root != root || rep.Checkpoints != 1 {
				t.Fatalf("Verify after the way up = %+v; want root %v and 1 checkpoint", rep, root)
			}
			if again := bodyBytes(t, db); again != compact || compact*3 > json {
				t.Errorf("bodies: %d bytes compact, %d as JSON, %d compacted again; want a third or less, and the same again", compact, json, again)
			}
			checkByPerson(t, s, []int64{4, 11, 18, 25, 32, 39, 46})
		})
	}
}

// bodyBytes is the size of the records' bodies as stored.
func bodyBytes(t *testing.T, db *sqlstore.DB) int64 {
	t.Helper()
	var n int64
	if err := db.RawQueryRow(context.Background(), `SELECT SUM(length(body)) FROM audit_records`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func checkByPerson(t *testing.T, s audit.Store, want []int64) {
	t.Helper()
	es, err := s.ByPerson(context.Background(), audittest.Person(3), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, e := range es {
		got = append(got, e.Seq)
	}
	if !slices.Equal(got, want) {
		t.Errorf("ByPerson = %v; want %v", got, want)
	}
}
