package rights

import (
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// FuzzRule: a rule file from outside (crossroads rights simulate --rule, a save) is
// parsed and compiled without crashing; a refusal is an invalid fault naming a field,
// and a rule accepted evaluates without panicking.
func FuzzRule(f *testing.F) {
	for _, r := range DemoRules() {
		data, _ := catalogueFS.ReadFile("catalogue/" + r.ID + ".json")
		f.Add(string(data))
	}
	f.Add(`{"id":"x-y","version":1,"kind":"statute","title":"t","author":"a","legal_reference":"l","valid_from":"2020-01-01","institution":"I","reads":["age"],"expr":"age > 1 ? true : false","examples":[{"name":"n","facts":{"age":2},"want":true}]}`)
	f.Add(`{"id":"x-y","expr":"[1][age]","reads":["age"]}`)
	f.Fuzz(func(t *testing.T, data string) {
		r, err := ParseRule([]byte(data))
		if err != nil {
			checkInvalid(t, err)
			return
		}
		c, err := Compile(r, []string{"increased-reimbursement", "person-with-disability", r.ID})
		if err != nil {
			checkInvalid(t, err)
			return
		}
		ev := (&Catalogue{rules: []*Compiled{c}, index: map[string]int{c.ID: 0}}).evaluator()
		ev.run(&Facts{Age: 70, Alive: true, Day: date.Of(2026, 12, 7)})
		_ = Readable(r.Expr, nil)
	})
}

func checkInvalid(t *testing.T, err error) {
	t.Helper()
	fe, ok := err.(*fault.Error)
	if !ok || fe.Kind != fault.Invalid || fe.Field == "" || strings.TrimSpace(fe.Msg) == "" {
		t.Fatalf("error %#v: want an invalid fault naming a field", err)
	}
}
