package directorytest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

func rec(key, owner, doc string) directory.Record {
	return directory.Record{Kind: directory.KindApplication, Key: key, Owner: owner, Doc: json.RawMessage(doc)}
}

func runRecords(t *testing.T, newStore func(t *testing.T) directory.Store) {
	ctx := context.Background()
	type step struct {
		name      string
		r         directory.Record
		ifVersion int64
		want      int64 // version after the write; 0: the write fails
		kind      fault.Kind
	}
	steps := []step{
		{"create", rec("app-1", "INST", `{"n":1}`), directory.MustCreate, 1, 0},
		{"create twice", rec("app-1", "INST", `{"n":2}`), directory.MustCreate, 0, fault.Conflict},
		{"update at version", rec("app-1", "INST", `{"n":3}`), 1, 2, 0},
		{"stale version", rec("app-1", "INST", `{"n":4}`), 1, 0, fault.Conflict},
		{"future version", rec("app-1", "INST", `{"n":4}`), 7, 0, fault.Conflict},
		{"replace any version", rec("app-1", "OTHER", `{"n":5}`), directory.AnyVersion, 3, 0},
		{"version of a missing record", rec("app-2", "INST", `{}`), 1, 0, fault.Conflict},
		{"create with any version", rec("app-3", "INST", `{"n":6}`), directory.AnyVersion, 1, 0},
	}
	s := newStore(t)
	for _, st := range steps {
		got, err := s.PutRecord(ctx, "alice", st.r, st.ifVersion)
		if st.want == 0 {
			wantKind(t, st.name, err, st.kind)
			continue
		}
		if err != nil {
			t.Fatalf("%s: PutRecord: %v", st.name, err)
		}
		if got.Version != st.want || got.UpdatedBy != "alice" || got.UpdatedAt.IsZero() || !jsonEqual(got.Doc, st.r.Doc) {
			t.Fatalf("%s: PutRecord = %+v; want version %d by alice", st.name, got, st.want)
		}
		stored, err := s.GetRecord(ctx, st.r.Kind, st.r.Key)
		if err != nil {
			t.Fatalf("%s: GetRecord: %v", st.name, err)
		}
		if stored.Version != got.Version || stored.Owner != st.r.Owner || !stored.UpdatedAt.Equal(got.UpdatedAt) || !jsonEqual(stored.Doc, st.r.Doc) {
			t.Fatalf("%s: GetRecord = %+v; want %+v", st.name, stored, got)
		}
	}
	_, err := s.GetRecord(ctx, directory.KindApplication, "app-2")
	wantKind(t, "GetRecord(missing)", err, fault.NotFound)
	_, err = s.GetRecord(ctx, directory.KindService, "app-1")
	wantKind(t, "GetRecord(other kind)", err, fault.NotFound)
	wantKind(t, "DeleteRecord(missing)", s.DeleteRecord(ctx, "alice", directory.KindApplication, "app-2"), fault.NotFound)
	if err := s.DeleteRecord(ctx, "bob", directory.KindApplication, "app-1"); err != nil {
		t.Fatalf("DeleteRecord: %v", err)
	}
	_, err = s.GetRecord(ctx, directory.KindApplication, "app-1")
	wantKind(t, "GetRecord(deleted)", err, fault.NotFound)
	if got, err := s.PutRecord(ctx, "alice", rec("app-1", "INST", `{}`), directory.MustCreate); err != nil || got.Version != 1 {
		t.Fatalf("PutRecord(re-create) = %+v, %v; want version 1", got, err)
	}
}

func runList(t *testing.T, newStore func(t *testing.T) directory.Store) {
	ctx := context.Background()
	s := newStore(t)
	for i, key := range []string{"e", "b", "d", "a", "c"} {
		owner := []string{"X", "Y"}[i%2]
		if _, err := s.PutRecord(ctx, "alice", rec(key, owner, fmt.Sprintf(`{"i":%d}`, i)), directory.MustCreate); err != nil {
			t.Fatal(err)
		}
	}
	other := directory.Record{Kind: directory.KindService, Key: "b2", Owner: "X", Doc: json.RawMessage(`{}`)}
	if _, err := s.PutRecord(ctx, "alice", other, directory.MustCreate); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q    directory.ListQuery
		want []string
	}{
		{directory.ListQuery{}, []string{"a", "b", "c", "d", "e"}},
		{directory.ListQuery{Limit: 2}, []string{"a", "b"}},
		{directory.ListQuery{After: "b", Limit: 2}, []string{"c", "d"}},
		{directory.ListQuery{After: "d", Limit: 2}, []string{"e"}},
		{directory.ListQuery{After: "e"}, []string{}},
		{directory.ListQuery{Owner: "X"}, []string{"c", "d", "e"}},
		{directory.ListQuery{Owner: "X", After: "c", Limit: 1}, []string{"d"}},
		{directory.ListQuery{Owner: "Y", After: "a"}, []string{"b"}},
		{directory.ListQuery{Owner: "Z"}, []string{}},
	}
	for _, tt := range tests {
		got, err := s.ListRecords(ctx, directory.KindApplication, tt.q)
		if err != nil {
			t.Fatalf("ListRecords(%+v): %v", tt.q, err)
		}
		var keys []string
		for _, r := range got {
			keys = append(keys, r.Key)
		}
		if !slices.Equal(keys, tt.want) && !(len(keys) == 0 && len(tt.want) == 0) {
			t.Errorf("ListRecords(%+v) = %v; want %v", tt.q, keys, tt.want)
		}
	}
}
