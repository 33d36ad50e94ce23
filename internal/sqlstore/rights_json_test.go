package sqlstore

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/rights"
)

// The decisions' facts and events are written by hand; they must be json.Marshal's bytes.
func TestAppendDecisionJSON(t *testing.T) {
	cases := []rights.Decision{
		{ID: 7, Right: "energy", Version: 2, Result: rights.Granted, Effective: date.Of(2026, 12, 7), Institution: "ENERGY-REGULATOR",
			Facts: []rights.Fact{{Name: "age", Value: "70", Source: rights.SourceCivil, Date: date.Of(1956, 3, 4)},
				{Name: "severity", Value: "sévère \"<&>\" \u2028", Source: rights.SourceDisability}}},
		{Right: "x", Facts: []rights.Fact{}},
		{Right: "y"},
	}
	for _, d := range cases {
		want, _ := json.Marshal(d.Facts)
		if got := appendFacts(nil, d.Facts); string(got) != string(want) {
			t.Errorf("appendFacts(%+v) = %s; want %s", d.Facts, got, want)
		}
		want, _ = json.Marshal(struct {
			ID          int64         `json:"decision"`
			Right       string        `json:"right"`
			Version     int           `json:"version"`
			Result      string        `json:"result"`
			Effective   date.Date     `json:"effective"`
			Institution string        `json:"institution"`
			Facts       []rights.Fact `json:"facts"`
		}{d.ID, d.Right, d.Version, d.Result, d.Effective, d.Institution, d.Facts})
		if got := appendRightEvent(nil, &d); string(got) != string(want) {
			t.Errorf("appendRightEvent = %s; want %s", got, want)
		}
	}
}

// briefDoc picks what json_extract(doc, '$.sex') and '$.registry_changes' did.
func TestBriefDoc(t *testing.T) {
	cases := []struct {
		doc     string
		sex     string
		changes int64
	}{
		{`{"person":"1","sex":"male","address":{"sex":"x"},"registry_changes":3}`, "male", 3},
		{`{"sex":"female"}`, "female", 0},
		{`{"registry_changes":2.0,"sex":"unknown"}`, "unknown", 2},
		{`{"given_name":"a\"sex\":\"x","sex":null}`, "", 0},
		{`{"s\u0065x":"other"}`, "other", 0},
		{`not json`, "", 0},
		{`{}`, "", 0},
	}
	for _, c := range cases {
		if sex, n := briefDoc([]byte(c.doc)); sex != c.sex || n != c.changes {
			t.Errorf("briefDoc(%s) = %q, %d; want %q, %d", c.doc, sex, n, c.sex, c.changes)
		}
	}
}

// A national read takes the sex and the count from the generated columns of the covering
// index person_brief (Briefs), a look-up by list from the document (BriefsOf, briefDoc):
// both must give the same briefs, whatever the document holds.
func TestBriefColumnsAgreeWithDoc(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "civil.db"), Civil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	docs := []string{
		`{"person":"1","sex":"male","address":{"sex":"x"},"registry_changes":3}`, `{"sex":"female"}`,
		`{"registry_changes":2.0,"sex":"unknown"}`, `{"given_name":"a\"sex\":\"x","sex":null}`, `{"s\u0065x":"other"}`,
		`not json`, `{}`, `{"registry_changes":"3","sex":5}`, `{"registry_changes":2.9,"sex":"female"}`,
	}
	var numbers []string
	for i, doc := range docs {
		pn, err := ident.MakePerson(1980, 1, 1, 1+i, ident.Register)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := personKey(pn.String())
		if _, err := db.w.ExecContext(ctx, `INSERT INTO person (number, municipality, birth_date, household, doc) VALUES (?, 'M1', 19800101, 'H', ?)`, n, doc); err != nil {
			t.Fatalf("insert %s: %v", doc, err)
		}
		numbers = append(numbers, personString(n))
	}
	ranged, err := db.Roster().Briefs(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	listed, err := db.Roster().BriefsOf(ctx, numbers)
	if err != nil {
		t.Fatal(err)
	}
	if len(ranged) != len(docs) || len(listed) != len(docs) {
		t.Fatalf("Briefs gave %d, BriefsOf %d; want %d", len(ranged), len(listed), len(docs))
	}
	for i := range docs {
		sex, changes := briefDoc([]byte(docs[i]))
		if r := ranged[i]; r.Sex != sex || r.RegistryChanges != int(changes) || r != listed[i] {
			t.Errorf("doc %s: Briefs gives %+v, BriefsOf %+v; want sex %q, changes %d", docs[i], r, listed[i], sex, changes)
		}
	}
}

func FuzzBriefDoc(f *testing.F) {
	f.Add([]byte(`{"sex":"male","registry_changes":1}`))
	f.Add([]byte(`{"s\u0065x":"x","sex":"y"}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		sex, _ := briefDoc(doc)
		var m map[string]json.RawMessage
		if json.Unmarshal(doc, &m) != nil {
			return
		}
		var want string
		if json.Unmarshal(m["sex"], &want) != nil {
			return // absent or not a string
		}
		if sex != want {
			t.Errorf("briefDoc(%s) sex = %q; json.Unmarshal reads %q", doc, sex, want)
		}
	})
}

// On SQLite the decisions' ids are numbered by Save: each event must carry the id its
// decision has in the store, across saves and chunks (a full chunk and a partial one).
func TestSavedDecisionEventsCarryTheirIDs(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "civil.db"), Civil, Rights)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pn, err := ident.MakePerson(1970, 5, 6, 11, ident.Register)
	if err != nil {
		t.Fatal(err)
	}
	person := pn.String()
	for _, n := range []int{3, decisionsPerInsert + 7} {
		ds := make([]rights.Decision, n)
		for i := range ds {
			ds[i] = rights.Decision{Person: person, Right: "r" + strconv.Itoa(i), Version: 1, Result: rights.Granted, Effective: date.Of(2026, 12, 8)}
		}
		if err := db.Rights().Save(ctx, ds, rights.Mark{}); err != nil {
			t.Fatalf("Save: %v", err)
		}
	}
	history, err := db.Rights().History(ctx, person)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := db.Population().Events(ctx, person)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 3+decisionsPerInsert+7 || len(evs) != len(history) {
		t.Fatalf("%d decisions and %d events; want %d of each", len(history), len(evs), 3+decisionsPerInsert+7)
	}
	for i, ev := range evs {
		var data struct {
			Decision int64  `json:"decision"`
			Right    string `json:"right"`
		}
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			t.Fatal(err)
		}
		if data.Decision != history[i].ID || data.Right != history[i].Right || (i > 0 && history[i].ID != history[i-1].ID+1) {
			t.Errorf("event %d names decision %d (%s); the store holds %d (%s)", i, data.Decision, data.Right, history[i].ID, history[i].Right)
		}
	}
}
