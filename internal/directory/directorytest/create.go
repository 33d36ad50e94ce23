package directorytest

import (
	"context"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

func runCreate(t *testing.T, newStore func(t *testing.T) directory.Store) {
	ctx := context.Background()
	s := newStore(t)
	if err := s.CreateRecords(ctx, "loader", []directory.Record{rec("A", "", `{"n":1}`), rec("B", "", `{"n":2}`)}); err != nil {
		t.Fatalf("CreateRecords = %v", err)
	}
	got, err := s.GetRecord(ctx, directory.KindApplication, "B")
	if err != nil || got.Version != 1 || got.UpdatedBy != "loader" {
		t.Errorf("GetRecord(B) = %+v, %v; want version 1 by loader", got, err)
	}
	err = s.CreateRecords(ctx, "loader", []directory.Record{rec("C", "", `{}`), rec("A", "", `{}`)})
	if fault.KindOf(err) != fault.Conflict {
		t.Errorf("CreateRecords with an existing key = %v; want a conflict", err)
	}
	if _, err := s.GetRecord(ctx, directory.KindApplication, "C"); fault.KindOf(err) != fault.NotFound {
		t.Errorf("record C after a refused batch: %v; want not found (all or nothing)", err)
	}
	hist, _ := s.History(ctx, directory.HistoryQuery{Kind: directory.KindApplication, Limit: 10})
	if len(hist) != 2 || hist[0].Op != "create" {
		t.Errorf("history = %+v; want two creations", hist)
	}
}
