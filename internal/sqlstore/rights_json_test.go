package sqlstore

import (
	"encoding/json"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
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
