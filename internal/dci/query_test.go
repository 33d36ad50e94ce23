package dci_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/dci"
)

func TestPredicates(t *testing.T) {
	tests := []struct {
		in   string
		want string // Cond.String(), or "error"
	}{
		{`[{"expression1":{"attribute_name":"UIN","operator":"eq","attribute_value":"847951632"}}]`,
			`eq(UIN,"847951632")`},
		// The samples' form: seq_num, condition and expression2 sent as "".
		{`[{"seq_num":"","expression1":{"attribute_name":"UIN","operator":"eq","attribute_value":"847951632"},"condition":"","expression2":""}]`,
			`eq(UIN,"847951632")`},
		{`[{"seq_num":1,"expression1":{"attribute_name":"age","operator":"lt","attribute_value":25},"condition":"and","expression2":{"attribute_name":"poverty_score","operator":"lt","attribute_value":"2.5"}}]`,
			`and(lt(age,"25"),lt(poverty_score,"2.5"))`},
		{`[{"expression1":{"attribute_name":"a","operator":"eq","attribute_value":"1"},"condition":"or","expression2":{"attribute_name":"b","operator":"eq","attribute_value":"2"}}]`,
			`or(eq(a,"1"),eq(b,"2"))`},
		{`[{"expression1":{"attribute_name":"a","operator":"eq","attribute_value":"1"},"condition":"not"}]`,
			`not(eq(a,"1"))`},
		// Items are AND-ed in seq_num order; items without seq_num come last.
		{`[{"seq_num":2,"expression1":{"attribute_name":"b","operator":"ge","attribute_value":"2"},"condition":"or","expression2":{"attribute_name":"c","operator":"le","attribute_value":"3"}},
		   {"expression1":{"attribute_name":"z","operator":"eq","attribute_value":"9"}},
		   {"seq_num":"1","expression1":{"attribute_name":"a","operator":"gt","attribute_value":"1"}}]`,
			`and(gt(a,"1"),or(ge(b,"2"),le(c,"3")),eq(z,"9"))`},
		// expression2 without a condition is AND-ed (the reading that returns fewer records).
		{`[{"expression1":{"attribute_name":"a","operator":"eq","attribute_value":"1"},"expression2":{"attribute_name":"b","operator":"eq","attribute_value":"2"}}]`,
			`and(eq(a,"1"),eq(b,"2"))`},
		// "and" without expression2 is expression1.
		{`[{"expression1":{"attribute_name":"a","operator":"eq","attribute_value":"1"},"condition":"and"}]`, `eq(a,"1")`},
		{`[{"expression1":{"attribute_name":"a","operator":"in","attribute_value":["x",2,true]}}]`, `in(a,["x" "2" "true"])`},
		{`[{"expression1":{"attribute_name":"a","operator":"in","attribute_value":"x, y,z"}}]`, `in(a,["x" "y" "z"])`},
		{`[{"expression1":{"attribute_name":"n","operator":"gt","attribute_value":1e3}}]`, `gt(n,"1000")`},
		{`[{"expression1":{"attribute_name":"a","operator":"eq","attribute_value":"1"},"condition":"not","expression2":{"attribute_name":"b","operator":"eq","attribute_value":"2"}}]`, "error"},
		{`[{"expression1":{"attribute_name":"a","operator":"eq","attribute_value":"1"},"condition":"xor"}]`, "error"},
		{`[{"expression1":{"attribute_name":"a","operator":"gte","attribute_value":"1"}}]`, "error"},
		{`[{"expression1":{"attribute_name":"a","operator":"eq","attribute_value":null}}]`, "error"},
		{`[{"expression1":{"attribute_name":"a","operator":"eq","attribute_value":{"x":1}}}]`, "error"},
		{`[{"expression1":{"attribute_name":"a","operator":"eq","attribute_value":["1"]}}]`, "error"},
		{`[{"expression1":{"attribute_name":"a","operator":"in","attribute_value":[]}}]`, "error"},
		{`[{"expression1":{"attribute_name":"a b","operator":"eq","attribute_value":"1"}}]`, "error"},
		{`[{"expression1":{"attribute_name":"a","operator":"eq"}}]`, "error"},
		{`[{"seq_num":"first","expression1":{"attribute_name":"a","operator":"eq","attribute_value":"1"}}]`, "error"},
		// The social samples' "expression3" would be silently dropped: refused instead.
		{`[{"expression1":{"attribute_name":"a","operator":"eq","attribute_value":"1"},"condition":"and","expression2":{"attribute_name":"b","operator":"eq","attribute_value":"1"},"expression3":{"attribute_name":"c","operator":"eq","attribute_value":"1"}}]`, "error"},
		{`[{"condition":"and"}]`, "error"},
		{`[]`, "error"},
		{`{}`, "error"},
		{"[" + strings.Repeat(`{"expression1":{"attribute_name":"a","operator":"eq","attribute_value":"1"},"condition":"or","expression2":{"attribute_name":"b","operator":"eq","attribute_value":"1"}},`, 30) + `{"expression1":{"attribute_name":"a","operator":"eq","attribute_value":"1"}}]`, "error"},
	}
	for _, tt := range tests {
		c, err := dci.Predicates(json.RawMessage(tt.in))
		got := "error"
		if err == nil {
			got = c.String()
		}
		if got != tt.want {
			t.Errorf("Predicates(%s) = %s (%v); want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestExpression(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		entity string
	}{
		{`{"expression":{"collection":"Person","query":{"$and":[{"birth_date":{"$lt":"1960-01-01"}},{"address.region":{"$eq":"R01"}}]}}}`,
			`and(lt(birth_date,"1960-01-01"),eq(address.region,"R01"))`, "Person"},
		// The spec's ExpTemplate wrapper, as in the DR and social samples.
		{`{"type":"ns:org:QueryType:NoSql","value":{"expression":{"collection":"Group","query":{"$and":[{"poverty_score":{"$lt":5}}]}}}}`,
			`and(lt(poverty_score,"5"))`, "Group"},
		{`{"expression":{"query":{"$or":[{"sex":"female"},{"$not":{"age":{"$gte":65}}}]}}}`,
			`or(eq(sex,"female"),not(ge(age,"65")))`, ""},
		// Several members, and several operators on one attribute, are AND-ed (sorted by name).
		{`{"query":{"region":"R01","age":{"$lt":18,"$ge":6}}}`,
			`and(and(ge(age,"6"),lt(age,"18")),eq(region,"R01"))`, ""},
		{`{"query":{"status":{"$in":["Approved","Pending"]}}}`, `in(status,["Approved" "Pending"])`, ""},
		{`{"query":{"active":true}}`, `eq(active,"true")`, ""},
		{`{"query":{"name":{"$regex":"^A"}}}`, "error", ""},
		{`{"query":{"$where":"sleep(1000)"}}`, "error", ""},
		{`{"query":{"$expr":{}}}`, "error", ""},
		{`{"query":{"address":{"region":"R01"}}}`, "error", ""},
		{`{"query":{"tags":["a"]}}`, "error", ""},
		{`{"query":{"status":{"$in":"Approved"}}}`, "error", ""},
		{`{"query":{"age":{}}}`, "error", ""},
		{`{"query":{}}`, "error", ""},
		{`{"query":{"$and":[]}}`, "error", ""},
		{`{"query":{"$and":{}}}`, "error", ""},
		{`{"collection":"Person"}`, "error", ""},
		{`{"collection":"Person","query":{"a":1},"limit":5}`, "error", ""},
		{`{"type":"UIN","value":"123"}`, "error", ""},
		{`"sleep"`, "error", ""},
		{`{"query":` + strings.Repeat(`{"$not":`, 8) + `{"a":1}` + strings.Repeat(`}`, 8) + `}`, "error", ""},
		{`{"query":` + strings.Repeat(`{"$not":`, 7) + `{"a":1}` + strings.Repeat(`}`, 7) + `}`,
			strings.Repeat("not(", 7) + `eq(a,"1")` + strings.Repeat(")", 7), ""},
		{`{"query":{"$or":[` + strings.Repeat(`{"a":1},`, 64) + `{"a":2}]}}`, "error", ""},
	}
	for _, tt := range tests {
		c, entity, err := dci.Expression(json.RawMessage(tt.in))
		got := "error"
		if err == nil {
			got = c.String()
		}
		if got != tt.want || (err == nil && entity != tt.entity) {
			t.Errorf("Expression(%s) = %s, %q (%v); want %s, %q", tt.in, got, entity, err, tt.want, tt.entity)
		}
	}
}

// TestPredicateAndExpressionAgree checks that both query forms land on the same tree.
func TestPredicateAndExpressionAgree(t *testing.T) {
	p, err := dci.Predicates(json.RawMessage(`[
		{"seq_num":1,"expression1":{"attribute_name":"birth_date","operator":"lt","attribute_value":"1960-01-01"}},
		{"seq_num":2,"expression1":{"attribute_name":"region","operator":"eq","attribute_value":"R01"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	e, _, err := dci.Expression(json.RawMessage(`{"query":{"$and":[{"birth_date":{"$lt":"1960-01-01"}},{"region":"R01"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.String() != e.String() {
		t.Errorf("predicate %s != expression %s", p, e)
	}
}
