package directory

import (
	"context"
	"encoding/json"
	"testing"
)

// historyStore is a store that holds only a history.
type historyStore struct {
	Store
	changes []Change
}

func (s historyStore) History(context.Context, HistoryQuery) ([]Change, error) {
	return append([]Change(nil), s.changes...), nil
}

// TestHistoryHidesSecrets: the history as the front-ends show it keeps every change but
// never a secret's hashes.
func TestHistoryHidesSecrets(t *testing.T) {
	hash := json.RawMessage(`{"hash":"argon2id$…"}`)
	app := json.RawMessage(`{"id":"app"}`)
	d := New(historyStore{changes: []Change{
		{Seq: 1, Kind: KindApplication, Key: "app", Op: "create", After: app},
		{Seq: 2, Kind: KindSecret, Key: "app", Op: "create", After: hash},
		{Seq: 3, Kind: KindSecret, Key: "app", Op: "update", Before: hash, After: hash},
	}}, nil)
	got, err := d.History(context.Background(), HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("History() = %d changes; want 3", len(got))
	}
	if string(got[0].After) != string(app) {
		t.Errorf("History()[0].After = %s; want %s", got[0].After, app)
	}
	for _, c := range got[1:] {
		if c.Before != nil || c.After != nil || c.Op == "" {
			t.Errorf("History() shows a secret's change as %+v; want its op without before and after", c)
		}
	}
}
