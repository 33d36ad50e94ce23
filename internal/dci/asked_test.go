package dci_test

import (
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// TestAsked: what a refused message asks is read as far as it can be, whatever else is
// wrong with it, so that its audit record names whom it asked about; never more than
// MaxSearchItems items, and nothing from what is not a search.
func TestAsked(t *testing.T) {
	ids := func(qs []query.Query) string {
		var out []string
		for _, q := range qs {
			if q.Kind == query.KindID {
				out = append(out, q.IDValue)
			} else {
				out = append(out, "filter")
			}
		}
		return strings.Join(out, ",")
	}
	many := strings.Repeat(`{"search_criteria":{"query_type":"idtype-value","query":{"type":"PN","value":"1"}}},`, dci.MaxSearchItems+5)
	tests := []struct {
		name, body, want string
	}{
		{"valid", validSearch, "847951632"},
		{"wrong action", strings.Replace(validSearch, `"action": "search"`, `"action": "on-search"`, 1), "847951632"},
		{"no header", `{"message":{"search_request":[{"search_criteria":{"query_type":"idtype-value","query":{"type":"PN","value":"85061500118"}}}]}}`, "85061500118"},
		{"bad page, no reference", `{"message":{"search_request":[{"search_criteria":{"query_type":"idtype-value","query":{"type":"PN","value":"85061500118"},"pagination":{"page_size":0}}}]}}`, "85061500118"},
		{"a predicate", `{"message":{"search_request":[{"search_criteria":{"query_type":"predicate","query":[{"expression1":{"attribute_name":"person","operator":"eq","attribute_value":"85061500118"}}]}}]}}`, "filter"},
		{"a query that cannot be read", `{"message":{"search_request":[{"search_criteria":{"query_type":"idtype-value","query":"85061500118"}}]}}`, ""},
		{"items not a list", `{"message":{"search_request":{"search_criteria":{}}}}`, ""},
		{"not JSON", `{"message":`, ""},
		{"too many items", `{"message":{"search_request":[` + strings.TrimSuffix(many, ",") + `]}}`, strings.TrimSuffix(strings.Repeat("1,", dci.MaxSearchItems), ",")},
	}
	for _, tt := range tests {
		if got := ids(dci.Asked([]byte(tt.body))); got != tt.want {
			t.Errorf("%s: Asked = %q; want %q", tt.name, got, tt.want)
		}
	}
	// A rejected item keeps what it asked in Asked; an accepted one has none.
	bad := strings.Replace(validSearch, `"page_size": 10`, `"page_size": 0`, 1)
	env, err := dci.DecodeSearch([]byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	if it := env.Message.SearchRequest[0]; it.Err == nil || it.Query != nil || it.Asked == nil || it.Asked.IDValue != "847951632" {
		t.Errorf("page_size 0: item %+v; want rejected, Asked holding 847951632", it)
	}
	env, _ = dci.DecodeSearch([]byte(validSearch))
	if it := env.Message.SearchRequest[0]; it.Asked != nil {
		t.Errorf("accepted item: Asked = %v; want nil", it.Asked)
	}
}
