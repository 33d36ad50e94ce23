// Package g2p is the delivery chain of a social-protection programme (#21): the old-age
// allowance from registration to reconciled payment. A programme (the SP-MIS of the
// demo, a built-in institution) registers applicants (a one-time code through a Sender,
// the civil register asked through the hub's exchange, the bank account verified with
// the bank), decides eligibility with a rule (expr), links each beneficiary's person
// number to an account in the identifier-to-account mapper (G2P Connect mapper), runs
// a monthly cycle (the list re-checked against the civil register the day before
// payment, instructions sent to the bank through the G2P Connect disburse shapes,
// idempotent by instruction id) and reconciles the bank's statement. Every step that
// touches personal data goes through the hub (Hub): decided, minimised and recorded in
// the audit log; the records' seqs are kept with the step that caused them.
package g2p

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/iban"
)

// Facts are what the rule of a programme reads about one person on one day, each
// brought through the hub from its authentic source.
type Facts struct {
	Age      int   `expr:"age"`      // whole years on the day (civil register)
	Deceased bool  `expr:"deceased"` // civil register
	Resident bool  `expr:"resident"` // a household of the nation (social registry)
	Pension  int64 `expr:"pension"`  // monthly contributory pension, minor units (beneficiary registry)
	Income   int64 `expr:"income"`   // monthly income of the household, minor units (social registry)
}

// Condition is one named part of a rule, with what an applicant is told when it fails.
type Condition struct {
	Name string
	Expr string
	Why  string // the refusal, for the applicant
	What string // what the applicant can do
	prog *vm.Program
}

// Programme is a social-protection programme: who runs it, its rule, amount and cycle.
type Programme struct {
	Code        string // short code, the prefix of its instruction ids
	Name        string
	Institution string    // the SP-MIS: the hub's institution asking on its behalf
	Capacity    string    // capacity code of its files on persons
	Account     iban.IBAN // the programme's account, the payer
	Amount      int64     // monthly amount, minor units
	Currency    string
	PayDay      int // day of the month of payment
	Rule        []Condition
}

// OldAgeAllowanceRule is the old-age allowance's rule: 65 or older, alive, resident,
// without a contributory pension, household income at most 1,200 a month. It is written
// in expr, as the rights engine's rules are, so it can move there.
var OldAgeAllowanceRule = []Condition{
	{Name: "alive", Expr: "!deceased", Why: "the civil register records a death", What: "a relative can contact the programme about arrears"},
	{Name: "age", Expr: "age >= 65", Why: "the allowance starts at 65", What: "apply again in the month of the 65th birthday"},
	{Name: "residence", Expr: "resident", Why: "no household of the nation is registered for the applicant", What: "register the address with the municipality, then apply again"},
	{Name: "pension", Expr: "pension == 0", Why: "the applicant receives a contributory pension", What: "nothing: the pension replaces the allowance"},
	{Name: "income", Expr: "income <= 120000", Why: "the household's income is above 1,200 a month", What: "apply again if the household's income falls"},
}

// OldAgeAllowance is the demo's programme.
func OldAgeAllowance(institution string, account iban.IBAN) (*Programme, error) {
	p := &Programme{Code: "OAA", Name: "Old-age allowance", Institution: institution, Capacity: Capacity,
		Account: account, Amount: 250_00, Currency: "XCD", PayDay: 25, Rule: OldAgeAllowanceRule}
	return p, p.Compile()
}

// Capacity is the capacity code of the programme's files on its applicants and
// beneficiaries in the person directory.
const Capacity = "040"

// Compile compiles the rule's conditions; a condition that is not a boolean expression
// over Facts is refused, naming it.
func (p *Programme) Compile() error {
	rule := make([]Condition, len(p.Rule))
	for i, c := range p.Rule {
		prog, err := expr.Compile(c.Expr, expr.Env(Facts{}), expr.AsBool())
		if err != nil {
			return fault.Invalidf("rule."+c.Name, "%v", err)
		}
		c.prog = prog
		rule[i] = c
	}
	p.Rule = rule
	return nil
}

// Decision is the outcome of the rule for one person.
type Decision struct {
	Eligible bool     `json:"eligible"`
	Failed   []string `json:"failed,omitempty"` // names of the conditions not met
	Why      string   `json:"why,omitempty"`
	What     string   `json:"what,omitempty"`
}

// Decide runs the rule on f.
func (p *Programme) Decide(f Facts) (Decision, error) {
	d := Decision{Eligible: true}
	var why, what []string
	for _, c := range p.Rule {
		if c.prog == nil {
			return Decision{}, fault.Invalidf("rule."+c.Name, "not compiled")
		}
		out, err := expr.Run(c.prog, f)
		if err != nil {
			return Decision{}, fault.Wrap(err, "rule "+c.Name)
		}
		if ok, _ := out.(bool); !ok {
			d.Eligible = false
			d.Failed = append(d.Failed, c.Name)
			why, what = append(why, c.Why), append(what, c.What)
		}
	}
	d.Why, d.What = strings.Join(why, "; "), strings.Join(what, "; ")
	return d, nil
}

// Age is the age in whole years on day of a person born on birth.
func Age(birth, day date.Date) int {
	a := day.Year() - birth.Year()
	if day.Month()*100+day.Day() < birth.Month()*100+birth.Day() {
		a--
	}
	return a
}

// Cycle names a month's payment: "2026-12".
func Cycle(day date.Date) string { return fmt.Sprintf("%04d-%02d", day.Year(), day.Month()) }

// PayDate is the day of payment of cycle's month.
func (p *Programme) PayDate(day date.Date) date.Date {
	return date.Of(day.Year(), day.Month(), p.PayDay)
}
