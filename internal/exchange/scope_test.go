package exchange

import (
	"testing"

	"github.com/crossroads-hub/crossroads/internal/query"
)

func TestUngranted(t *testing.T) {
	cmp := func(op, attr string, v any) *query.Cond { return &query.Cond{Op: op, Attr: attr, Value: v} }
	and := func(cs ...*query.Cond) *query.Cond { return &query.Cond{Op: query.And, Args: cs} }
	names := []string{"given_name", "family_name", "address"}
	for _, c := range []struct {
		name   string
		fields []string
		q      query.Query
		want   string
	}{
		{"person eq", names, query.Query{Filter: cmp(query.Eq, "person", "00010100204")}, ""},
		{"person in", names, query.Query{Filter: cmp(query.In, "person", []string{"00010100204"})}, ""},
		{"person not eq", names, query.Query{Filter: &query.Cond{Op: query.Not, Args: []*query.Cond{cmp(query.Eq, "person", "00010100204")}}}, ""},
		{"person le", names, query.Query{Filter: and(cmp(query.Eq, "given_name", "Sofie"), cmp(query.Le, "person", "5"))}, "person"},
		{"person gt", names, query.Query{Filter: cmp(query.Gt, "person", "5")}, "person"},
		{"sort by person", names, query.Query{Filter: cmp(query.Eq, "given_name", "Sofie"), Sort: []query.SortKey{{Attr: "person"}}}, "person"},
		{"granted person le", append(names, "person"), query.Query{Filter: cmp(query.Le, "person", "5"), Sort: []query.SortKey{{Attr: "person"}}}, ""},
		{"address.street", names, query.Query{Filter: cmp(query.Ge, "address.street", "A")}, ""},
		{"birth_date eq", names, query.Query{Filter: cmp(query.Eq, "birth_date", "2000-01-01")}, "birth_date"},
		{"mother in", names, query.Query{Filter: cmp(query.In, "mother", []string{"00010100204"})}, "mother"},
	} {
		if got := Ungranted(c.q, c.fields); got != c.want {
			t.Errorf("%s: Ungranted = %q; want %q", c.name, got, c.want)
		}
	}
}
