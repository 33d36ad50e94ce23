package exchange

import (
	"context"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// TestIdentification: under an authorization of identification (no file needed), the
// exchange answers only a filter fixing every field of Identify by equality, a first
// page of at most three records, for a question naming its purpose; a look-up, a broader
// filter (a range, a partial set of fields, an in-list, a not), a bigger page or a
// question without the purpose is refused before the source, and recorded.
func TestIdentification(t *testing.T) {
	auths := []directory.Authorization{{ID: "A-9", Institution: "SP-MIS", Service: "civil-person", Purpose: "Identify applicants",
		Fields: []string{"person", "given_name", "family_name", "birth_date", "death_date"}, Identify: []string{"given_name", "family_name", "birth_date"},
		ValidFrom: date.Of(2019, 1, 1), Decision: "D 19/9"}}
	eq := func(a, v string) *query.Cond { return &query.Cond{Op: query.Eq, Attr: a, Value: v} }
	and := func(cs ...*query.Cond) *query.Cond { return &query.Cond{Op: query.And, Args: cs} }
	or := func(cs ...*query.Cond) *query.Cond { return &query.Cond{Op: query.Or, Args: cs} }
	good := and(eq("birth_date", "1985-07-30"), or(and(eq("given_name", "Ann"), eq("family_name", "Lee")), and(eq("given_name", "ANN"), eq("family_name", "LEE"))))
	filter := func(c *query.Cond, size int) query.Query {
		return query.Query{Kind: query.KindFilter, Filter: c, Page: 1, PageSize: size, Sort: []query.SortKey{{Attr: "person"}}}
	}
	caller := Caller{ClientID: "sp-mis-app", Institution: "SP-MIS"}
	tests := []struct {
		name    string
		q       query.Query
		purpose string
		status  int
	}{
		{"the exact name and birth date", filter(good, 3), "Identify applicants", 200},
		{"by authorization id", filter(good, 3), "A-9", 200},
		{"without the purpose", filter(good, 3), "", 403},
		{"a look-up by person number", query.Query{Kind: query.KindID, IDType: "PN", IDValue: "85073003328"}, "Identify applicants", 403},
		{"a birth date alone", filter(eq("birth_date", "1985-07-30"), 3), "Identify applicants", 403},
		{"a range of birth dates", filter(and(&query.Cond{Op: query.Ge, Attr: "birth_date", Value: "1900-01-01"}, eq("given_name", "Ann"), eq("family_name", "Lee")), 3), "Identify applicants", 403},
		{"an in-list of names", filter(and(eq("birth_date", "1985-07-30"), &query.Cond{Op: query.In, Attr: "given_name", Value: []string{"Ann", "Bob"}}, eq("family_name", "Lee")), 3), "Identify applicants", 403},
		{"a name or anything", filter(and(eq("birth_date", "1985-07-30"), or(and(eq("given_name", "Ann"), eq("family_name", "Lee")), eq("death_date", "2020-01-01"))), 3), "Identify applicants", 403},
		{"a not", filter(and(eq("birth_date", "1985-07-30"), eq("family_name", "Lee"), &query.Cond{Op: query.Not, Args: []*query.Cond{eq("given_name", "X")}}), 3), "Identify applicants", 403},
		{"a page of 100", filter(good, 100), "Identify applicants", 403},
		{"the second page", query.Query{Kind: query.KindFilter, Filter: good, Page: 2, PageSize: 3}, "Identify applicants", 403},
	}
	for _, tt := range tests {
		src, rec := &fakeSource{records: []map[string]any{ann()}}, &memRecorder{}
		x := New(NewPolicy(auths, directory.NewIndex()), oneSource{scopedSource{src}}, rec, func() time.Time { return day.Time() })
		ask := Ask{Caller: caller, Service: "civil-person", Purpose: tt.purpose, Query: tt.q}
		ans := x.Search(context.Background(), ask)
		if ans.Status != tt.status || (tt.status != 200 && src.calls != 0) {
			t.Errorf("%s: status %d, source asked %d times (%v); want %d", tt.name, ans.Status, src.calls, ans.Err, tt.status)
		}
		if _, err := x.Seal(context.Background(), ask, ans, []byte("r")); err != nil || len(rec.entries) != 1 {
			t.Fatalf("%s: not recorded: %v", tt.name, err)
		}
		if e := rec.entries[0]; (e.Decision == "permit") != (tt.status == 200) || len(e.Reasons) == 0 {
			t.Errorf("%s: audit entry %+v", tt.name, e)
		}
	}
}
