package directorytest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/directory"
)

func runHistory(t *testing.T, newStore func(t *testing.T) directory.Store) {
	ctx := context.Background()
	s := newStore(t)
	writes := []func() error{
		func() error {
			_, err := s.PutRecord(ctx, "alice", rec("a", "X", `{"v":1}`), directory.MustCreate)
			return err
		},
		func() error { _, err := s.PutRecord(ctx, "bob", rec("a", "X", `{"v":2}`), 1); return err },
		func() error {
			_, err := s.PutRecord(ctx, "bob", rec("b", "X", `{"v":9}`), directory.MustCreate)
			return err
		},
		func() error { _, err := s.PutRecord(ctx, "carol", rec("a", "X", `{"v":3}`), 1); return err }, // stale: no entry
		func() error { return s.DeleteRecord(ctx, "carol", directory.KindApplication, "a") },
	}
	for i, w := range writes {
		if err := w(); (err != nil) != (i == 3) {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	all, err := s.History(ctx, directory.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	type entry struct{ actor, key, op, before, after string }
	want := []entry{
		{"alice", "a", "create", "", `{"v":1}`},
		{"bob", "a", "update", `{"v":1}`, `{"v":2}`},
		{"bob", "b", "create", "", `{"v":9}`},
		{"carol", "a", "delete", `{"v":2}`, ""},
	}
	if len(all) != len(want) {
		t.Fatalf("History() has %d entries; want %d: %+v", len(all), len(want), all)
	}
	for i, c := range all {
		w := want[i]
		if c.Actor != w.actor || c.Key != w.key || c.Op != w.op || c.Kind != directory.KindApplication ||
			!jsonEqual(c.Before, json.RawMessage(w.before)) || !jsonEqual(c.After, json.RawMessage(w.after)) || c.At.IsZero() {
			t.Errorf("History()[%d] = %+v; want %+v", i, c, w)
		}
		if i > 0 && c.Seq <= all[i-1].Seq {
			t.Errorf("History()[%d].Seq = %d, not after %d", i, c.Seq, all[i-1].Seq)
		}
	}
	tests := []struct {
		name string
		q    directory.HistoryQuery
		want []int // indexes into all
	}{
		{"by key", directory.HistoryQuery{Kind: directory.KindApplication, Key: "a"}, []int{0, 1, 3}},
		{"by kind", directory.HistoryQuery{Kind: directory.KindApplication}, []int{0, 1, 2, 3}},
		{"other kind", directory.HistoryQuery{Kind: directory.KindService}, nil},
		{"after", directory.HistoryQuery{After: all[1].Seq}, []int{2, 3}},
		{"limit", directory.HistoryQuery{Limit: 2}, []int{0, 1}},
		{"after and limit", directory.HistoryQuery{Key: "a", After: all[0].Seq, Limit: 1}, []int{1}},
	}
	for _, tt := range tests {
		got, err := s.History(ctx, tt.q)
		if err != nil {
			t.Fatalf("%s: History: %v", tt.name, err)
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: History(%+v) has %d entries; want %d", tt.name, tt.q, len(got), len(tt.want))
			continue
		}
		for i, j := range tt.want {
			if got[i].Seq != all[j].Seq {
				t.Errorf("%s: History(%+v)[%d].Seq = %d; want %d", tt.name, tt.q, i, got[i].Seq, all[j].Seq)
			}
		}
	}
}
