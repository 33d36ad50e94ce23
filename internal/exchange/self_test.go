package exchange

import (
	"context"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/query"
)

// A person asks about themselves only: by their own person number, never about a day to
// come; records the source returns about anyone else are withheld.
func TestSearchSelf(t *testing.T) {
	ann := ann()
	src := &fakeSource{records: []map[string]any{ann, bob()}}
	x := newTestExchange(t, src, &memRecorder{})
	self := Caller{ClientID: "crossroads-portal"}
	byPN := func(v string) query.Query { return query.Query{Kind: query.KindID, IDType: "PN", IDValue: v} }
	for _, tc := range []struct {
		name   string
		person string
		ask    Ask
		status int
	}{
		{"own number", "85073003328", Ask{Caller: self, Service: "civil-person", Query: byPN("85073003328")}, 200},
		{"another's number", "85073003328", Ask{Caller: self, Service: "civil-person", Query: byPN("01010100225")}, 403},
		{"by BRN", "85073003328", Ask{Caller: self, Service: "civil-person", Query: query.Query{Kind: query.KindID, IDType: "BRN", IDValue: "BRN-1"}}, 403},
		{"a filter", "85073003328", Ask{Caller: self, Service: "civil-person", Query: query.Query{Kind: query.KindFilter, Filter: &query.Cond{Op: query.Eq, Attr: "sex", Value: "male"}}}, 403},
		{"a day to come", "85073003328", Ask{Caller: self, Service: "civil-person", Query: byPN("85073003328"), Day: day.AddDays(1)}, 403},
		{"no session person", "", Ask{Caller: self, Service: "civil-person", Query: byPN("85073003328")}, 400},
	} {
		calls := src.calls
		ans := x.SearchSelf(context.Background(), tc.ask, tc.person)
		if ans.Status != tc.status {
			t.Errorf("%s: status %d (%v); want %d", tc.name, ans.Status, ans.Err, tc.status)
			continue
		}
		if tc.status != 200 {
			if ans.Len() != 0 || src.calls != calls {
				t.Errorf("%s: refused, yet the source was asked (%d records)", tc.name, ans.Len())
			}
			continue
		}
		if ans.Len() != 1 || ans.Records[0]["person"] != "85073003328" || ans.Withheld != 1 {
			t.Errorf("%s: %d records, %d withheld; want Ann's alone, Bob's withheld", tc.name, ans.Len(), ans.Withheld)
		}
		if len(ans.Persons) == 0 || ans.Persons[len(ans.Persons)-1] != "85073003328" || !ans.Decision.Permit {
			t.Errorf("%s: persons %v, permit %v", tc.name, ans.Persons, ans.Decision.Permit)
		}
	}
}
