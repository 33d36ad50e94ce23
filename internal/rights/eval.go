package rights

import (
	"fmt"

	"github.com/expr-lang/expr/vm"

	"github.com/crossroads-hub/crossroads/internal/date"
)

// Results of one rule for one person.
const (
	notHeld int8 = iota
	held
	failed // the rule failed at run time (or a statute it uses did): no decision
)

// evaluator runs a catalogue for one person after another; one per goroutine.
type evaluator struct {
	cat     *Catalogue
	env     env
	machine vm.VM
	results []int8 // by rule, in evaluation order
	errs    []error
	uses    [][]int          // by rule, the indexes of the rules it uses (looked up once)
	refused map[string]error // rules whose reads were refused: they fail
}

func (c *Catalogue) evaluator() *evaluator {
	ev := &evaluator{cat: c, results: make([]int8, len(c.rules)), errs: make([]error, len(c.rules)), uses: make([][]int, len(c.rules))}
	for i, r := range c.rules {
		for _, u := range r.uses {
			ev.uses[i] = append(ev.uses[i], c.index[u])
		}
	}
	ev.env.Statute = func(id string) bool {
		i, ok := c.index[id]
		return ok && ev.results[i] == held
	}
	return ev
}

// run evaluates every rule on f, on f.Day.
func (ev *evaluator) run(f *Facts) {
	ev.env.Facts = *f
	for i, r := range ev.cat.rules {
		ev.errs[i] = nil
		ev.results[i] = ev.one(r, f.Day, i)
	}
}

func (ev *evaluator) one(r *Compiled, day date.Date, i int) int8 {
	if len(ev.refused) > 0 {
		if err := ev.refused[r.ID]; err != nil {
			ev.errs[i] = err
			return failed
		}
	}
	if !r.ValidOn(day) {
		return notHeld
	}
	for k, u := range ev.uses[i] {
		if ev.results[u] == failed {
			ev.errs[i] = fmt.Errorf("it uses %s, which failed", r.uses[k])
			return failed
		}
	}
	out, err := ev.machine.Run(r.program, &ev.env)
	if err != nil {
		ev.errs[i] = err
		return failed
	}
	if b, _ := out.(bool); b {
		return held
	}
	return notHeld
}

// Evaluate tells which rules of the catalogue f meets on f.Day: the ids held, and the
// ids of rules that failed with their errors. It is the pure core of the engine (the
// same facts give the same result).
func (c *Catalogue) Evaluate(f *Facts) (holds []string, failures map[string]error) {
	ev := c.evaluator()
	ev.run(f)
	for i, r := range c.rules {
		switch ev.results[i] {
		case held:
			holds = append(holds, r.ID)
		case failed:
			if failures == nil {
				failures = map[string]error{}
			}
			failures[r.ID] = ev.errs[i]
		}
	}
	return holds, failures
}
