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
