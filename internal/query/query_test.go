package query_test

import (
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/query"
)

func cmp(op, attr string, v any) *query.Cond { return &query.Cond{Op: op, Attr: attr, Value: v} }
func logic(op string, args ...*query.Cond) *query.Cond {
	return &query.Cond{Op: op, Args: args}
}

var person = map[string]string{
	"birth_date":   "1955-06-30",
	"sex":          "female",
	"region":       "R01",
	"age":          "69",
	"poverty":      "2.50",
	"uin":          "12345678901234567890",
	"empty":        "",
	"address.city": "Bruxelles",
}

func get(attr string) (string, bool) {
	v, ok := person[attr]
	return v, ok
}

func TestEval(t *testing.T) {
	tests := []struct {
		c    *query.Cond
		want bool
	}{
		{cmp(query.Eq, "sex", "female"), true},
		{cmp(query.Eq, "sex", "Female"), false},
		{cmp(query.Lt, "birth_date", "1960-01-01"), true},
		{cmp(query.Ge, "birth_date", "1955-06-30"), true},
		{cmp(query.Gt, "birth_date", "1955-06-30"), false},
		// Numbers compare as numbers: "69" > "7" although "69" < "7" as strings.
		{cmp(query.Gt, "age", "7"), true},
		{cmp(query.Le, "age", "69.0"), true},
		{cmp(query.Eq, "poverty", "2.5"), true},
		{cmp(query.Lt, "poverty", "10"), true},
		{cmp(query.Gt, "age", "-100"), true},
		// Long identifiers stay exact.
		{cmp(query.Eq, "uin", "12345678901234567891"), false},
		{cmp(query.Eq, "uin", "12345678901234567890"), true},
		// A number against a non-number compares as strings.
		{cmp(query.Lt, "age", "abc"), true},
		{cmp(query.In, "region", []string{"R02", "R01"}), true},
		{cmp(query.In, "region", []string{"R02"}), false},
		{cmp(query.In, "age", []string{"069"}), true},
		{cmp(query.Eq, "address.city", "Bruxelles"), true},
		{cmp(query.Eq, "empty", ""), true},
		// Missing attributes never compare; not negates that.
		{cmp(query.Eq, "death_date", ""), false},
		{logic(query.Not, cmp(query.Eq, "death_date", "2020-01-01")), true},
		{logic(query.And, cmp(query.Eq, "sex", "female"), cmp(query.Eq, "region", "R01")), true},
		{logic(query.And, cmp(query.Eq, "sex", "female"), cmp(query.Eq, "region", "R02")), false},
		{logic(query.Or, cmp(query.Eq, "sex", "male"), cmp(query.Eq, "region", "R01")), true},
		{logic(query.Or), false},
		{logic(query.And), true},
		// Malformed trees are false, not panics.
		{nil, false},
		{logic(query.Not), false},
		{cmp("like", "sex", "f%"), false},
		{cmp(query.Eq, "sex", []string{"female"}), false},
		{cmp(query.In, "sex", "female"), false},
		{logic(query.And, nil), false},
	}
	for _, tt := range tests {
		if got := tt.c.Eval(get); got != tt.want {
			t.Errorf("%s.Eval(person) = %v; want %v", tt.c, got, tt.want)
		}
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1", "1", 0}, {"007", "7", 0}, {"1.50", "1.5", 0}, {"-0", "0", 0}, {"-0.0", "0", 0},
		{"2", "10", -1}, {"-2", "-10", 1}, {"-1", "1", -1}, {"0.25", "0.3", -1}, {"0.3", "0.25", 1},
		{"1.", "1", 1}, {".5", "0.5", -1}, {"1e3", "999", -1}, {"+1", "1", -1},
		{"1960-01-01", "1960-12-31", -1}, {"a", "b", -1}, {"", "", 0}, {"", "0", -1},
	}
	for _, tt := range tests {
		if got := query.Compare(tt.a, tt.b); got != tt.want {
			t.Errorf("Compare(%q, %q) = %d; want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	deep := cmp(query.Eq, "a", "1")
	for i := 0; i < query.MaxDepth; i++ {
		deep = logic(query.Not, deep)
	}
	wide := logic(query.Or)
	for i := 0; i < query.MaxConds; i++ {
		wide.Args = append(wide.Args, cmp(query.Eq, "a", "1"))
	}
	tests := []struct {
		name string
		c    *query.Cond
		ok   bool
	}{
		{"comparison", cmp(query.Eq, "a", "1"), true},
		{"in", cmp(query.In, "a", []string{"1", "2"}), true},
		{"nil", nil, false},
		{"unknown op", cmp("ne", "a", "1"), false},
		{"bad attr", cmp(query.Eq, "a'--", "1"), false},
		{"empty attr", cmp(query.Eq, "", "1"), false},
		{"in with string", cmp(query.In, "a", "1"), false},
		{"in empty", cmp(query.In, "a", []string{}), false},
		{"eq with list", cmp(query.Eq, "a", []string{"1"}), false},
		{"long value", cmp(query.Eq, "a", strings.Repeat("x", query.MaxValueLen+1)), false},
		{"not with two", logic(query.Not, cmp(query.Eq, "a", "1"), cmp(query.Eq, "b", "1")), false},
		{"empty and", logic(query.And), false},
		{"comparison with args", &query.Cond{Op: query.Eq, Attr: "a", Value: "1", Args: []*query.Cond{cmp(query.Eq, "a", "1")}}, false},
		{"too deep", deep, false},
		{"too many", wide, false},
	}
	for _, tt := range tests {
		if err := tt.c.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%s) = %v; want ok %v", tt.name, err, tt.ok)
		}
	}
}

func FuzzCondEval(f *testing.F) {
	f.Add("eq", "age", "69", "and", "1955-06-30")
	f.Add("in", "region", "R01,R02", "or", "x")
	f.Add("lt", "poverty", "-0.5", "not", "")
	f.Fuzz(func(t *testing.T, op, attr, value, logicOp, other string) {
		var v any = value
		if op == query.In {
			v = strings.Split(value, ",")
		}
		c := logic(logicOp, cmp(op, attr, v), cmp(query.Le, "birth_date", other))
		record := map[string]string{attr: other, "birth_date": value}
		lookup := func(a string) (string, bool) { s, ok := record[a]; return s, ok }
		got := c.Eval(lookup)
		_ = c.Validate()
		_ = c.String()
		// Compare is an order: antisymmetric and reflexive.
		if query.Compare(value, other) != -query.Compare(other, value) || query.Compare(value, value) != 0 {
			t.Fatalf("Compare(%q, %q) is not antisymmetric", value, other)
		}
		// not(c) is the negation of c when c is well formed.
		if c.Validate() == nil && logic(query.Not, c).Eval(lookup) == got {
			t.Fatalf("not(%s) = %s", c, c)
		}
	})
}
