package rights

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/expr-lang/expr"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// runExamples runs every example stored with the rule and returns those that do not
// give their expected result.
func (c *Compiled) runExamples() (ps problems) {
	for i, ex := range c.Examples {
		field := "examples[" + itoa(i) + "]"
		var e env
		if len(ex.Facts) > 0 {
			dec := json.NewDecoder(bytes.NewReader(ex.Facts))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&e.Facts); err != nil {
				ps.add(fault.Invalidf(field+".facts", "%s", clip(err.Error())))
				continue
			}
		}
		used := true
		for j, s := range ex.Statutes {
			if !slices.Contains(c.uses, s) {
				ps.add(fault.Invalidf(field+".statutes["+itoa(j)+"]", "%q is not used by the rule", clip(s)))
				used = false
			}
		}
		if !used {
			continue
		}
		e.Statute = func(id string) bool { return slices.Contains(ex.Statutes, id) }
		got, err := c.eval(&e)
		if err != nil {
			ps.add(fault.Invalidf(field, "%q fails: %s", clip(ex.Name), clip(err.Error())))
		} else if got != ex.Want {
			ps.add(fault.Invalidf(field, "%q gives %v, the example expects %v", clip(ex.Name), got, ex.Want))
		}
	}
	return ps
}

// eval runs the program on e.
func (c *Compiled) eval(e *env) (ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			ok, err = false, fault.Invalidf("expr", "the rule failed: %v", r)
		}
	}()
	out, err := expr.Run(c.program, e)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}
