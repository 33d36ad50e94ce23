package rights

import (
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

func TestDemoCatalogueCompiles(t *testing.T) {
	c := DemoCatalogue()
	if len(c.Rules()) != 7 {
		t.Fatalf("catalogue has %d rules; want 7", len(c.Rules()))
	}
	// Statutes come before the rights that use them.
	seen := map[string]bool{}
	for _, r := range c.Rules() {
		for _, u := range r.Uses() {
			if !seen[u] {
				t.Errorf("%s is evaluated before %s, which it uses", r.ID, u)
			}
		}
		seen[r.ID] = true
	}
}

func baseRule() Rule {
	return Rule{ID: "test-rule", Version: 1, Kind: KindStatute, Title: "T", Author: "A", LegalReference: "L",
		ValidFrom: date.Of(2020, 1, 1), Institution: "X", Reads: []string{"age"}, Expr: "age >= 65",
		Examples: []Example{{Name: "old", Facts: []byte(`{"age": 70}`), Want: true}}}
}

func TestCompileErrorsNamePositionAndReason(t *testing.T) {
	for _, tc := range []struct {
		name       string
		change     func(r *Rule)
		field, msg string
	}{
		{"syntax", func(r *Rule) { r.Expr = "age >= \n  (65" }, "expr", "line 2, column"},
		{"unknown fact", func(r *Rule) { r.Expr = "age >= 65 && wealth > 3" }, "expr", "line 1, column 14"},
		{"not boolean", func(r *Rule) { r.Expr = "age + 1" }, "expr", "line 1"},
		{"undeclared read", func(r *Rule) { r.Expr = "age >= 65 && alive" }, "expr", "line 1, column 14: reads alive"},
		{"declared not read", func(r *Rule) { r.Reads = []string{"age", "income"} }, "reads", "declares income"},
		{"unknown declared fact", func(r *Rule) { r.Reads = []string{"wealth"} }, "reads[0]", "not a fact"},
		{"unknown statute", func(r *Rule) { r.Expr = `age >= 65 && statute("nope")` }, "expr", `line 1, column 14: statute("nope")`},
		{"statute not literal", func(r *Rule) { r.Expr = `age >= 65 && statute(sex)`; r.Reads = []string{"age", "sex"} }, "expr", "line 1, column 14"},
		{"failing example", func(r *Rule) { r.Examples[0].Want = false }, "examples[0]", `"old" gives true, the example expects false`},
		{"example with unknown fact", func(r *Rule) { r.Examples[0].Facts = []byte(`{"wealth": 1}`) }, "examples[0].facts", "unknown field"},
		{"no examples", func(r *Rule) { r.Examples = nil }, "examples", "at least one"},
		{"bad id", func(r *Rule) { r.ID = "Bad Id" }, "id", "lower-case"},
		{"valid_to before", func(r *Rule) { r.ValidTo = date.Of(2019, 1, 1) }, "valid_to", "before valid_from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := baseRule()
			tc.change(&r)
			_, err := Compile(r, []string{"test-rule", "other"})
			var fe *fault.Error
			if err == nil {
				t.Fatalf("Compile accepted the rule")
			}
			if !asFault(err, &fe) || fe.Kind != fault.Invalid {
				t.Fatalf("Compile = %v; want an invalid fault", err)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Msg, tc.msg) {
				t.Errorf("Compile = field %q, %q; want field %q containing %q", fe.Field, fe.Msg, tc.field, tc.msg)
			}
		})
	}
}

func TestCompileListsEveryProblem(t *testing.T) {
	r := baseRule()
	r.Title, r.Author = "", " "
	r.Expr = "age >= 65 && alive"
	_, err := Compile(r, nil)
	var fe *fault.Error
	if !asFault(err, &fe) || fe.Field != "title" {
		t.Fatalf("Compile = %v; want the title's problem first", err)
	}
	for _, want := range []string{"and 2 more", "author: is required", "expr: line 1, column 14: reads alive"} {
		if !strings.Contains(fe.Msg, want) {
			t.Errorf("Compile = %q; want it to contain %q", fe.Msg, want)
		}
	}
	r = baseRule()
	r.Examples = append(r.Examples, Example{Name: "young", Facts: []byte(`{"age": 20}`), Want: true}, Example{Name: "bad", Facts: []byte(`{"wealth": 1}`)})
	r.Examples[0].Want = false
	_, err = Compile(r, nil)
	for _, want := range []string{`examples[0]: "old" gives true`, `examples[1]: "young" gives false`, "examples[2].facts"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Compile = %v; want it to contain %q", err, want)
		}
	}
}

func TestParseRuleErrorsNamePosition(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{"{\n  \"id\": \"a\",\n  \"version\": \"one\"\n}", "line 3, column"},
		{"{\n  \"id\": \"a\",\n  \"colour\": 1\n}", "line 3, column 3: json: unknown field"},
		{"{\n  \"id\": \"a\" \"b\"\n}", "line 2, column"},
		{"{\"id\": ", "line 1, column 8"},
		{"{}\n{}", "data after the rule's object, at line"},
	} {
		_, err := ParseRule([]byte(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRule(%q) = %v; want an error containing %q", tc.data, err, tc.want)
		}
	}
}

func TestCycleRefused(t *testing.T) {
	a, b := baseRule(), baseRule()
	a.ID, a.Expr, a.Examples = "a-rule", `age > 1 && statute("b-rule")`, []Example{{Name: "x", Facts: []byte(`{"age":2}`), Statutes: []string{"b-rule"}, Want: true}}
	b.ID, b.Expr, b.Examples = "b-rule", `age > 1 && statute("a-rule")`, []Example{{Name: "x", Facts: []byte(`{"age":2}`), Statutes: []string{"a-rule"}, Want: true}}
	_, err := NewCatalogue([]Rule{a, b})
	if err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("NewCatalogue = %v; want a cycle refused", err)
	}
}

func TestEvaluate(t *testing.T) {
	c := DemoCatalogue()
	f := Facts{Age: 70, Alive: true, Resident: true, IncomePerUnit: 1000, Day: date.Of(2026, 12, 7)}
	holds, fails := c.Evaluate(&f)
	want := "free-waste-collection income-guarantee-elderly increased-reimbursement social-energy-tariff transport-reduction"
	if got := strings.Join(sorted(holds), " "); got != want || fails != nil {
		t.Errorf("Evaluate = %s, %v; want %s", got, fails, want)
	}
	f.Alive = false
	if holds, _ := c.Evaluate(&f); len(holds) != 0 {
		t.Errorf("a deceased person holds %v", holds)
	}
}
