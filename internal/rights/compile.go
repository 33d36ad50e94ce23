package rights

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// env is what a program runs on: the facts, and statute("id") for the statutes and
// rights decided before in the same evaluation. One env serves one worker, reused
// from person to person.
type env struct {
	Facts
	Statute func(id string) bool `expr:"statute"`
}

// Compiled is a rule ready to run.
type Compiled struct {
	Rule
	program *vm.Program
	uses    []string // the statutes and rights it calls statute() on
}

// Uses lists the statutes and rights the rule depends on.
func (c *Compiled) Uses() []string { return c.uses }

// Compile validates r and compiles its expression: its fields, the expression (a
// boolean over the facts), the facts it reads against those it declares, the statutes it
// uses against known (the ids of the rules it may depend on; nil: any), and its
// examples. An error is a fault.Invalid naming the field and, for the expression, the
// line and column.
//
// Every problem found is reported, not only the first: the error names the first's field
// and lists the others (the expression is checked when it is there, the examples when
// the rest is sound).
func Compile(r Rule, known []string) (*Compiled, error) {
	ps := r.check()
	c := &Compiled{Rule: r}
	if strings.TrimSpace(r.Expr) != "" && len(r.Expr) <= maxExpr {
		c.program = compileExpr(r, known, c, &ps)
	}
	if len(ps) == 0 {
		ps = append(ps, c.runExamples()...)
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// compileExpr checks and compiles r's expression, adding what is wrong to ps and the
// statutes it uses to c.
func compileExpr(r Rule, known []string, c *Compiled, ps *problems) *vm.Program {
	tree, err := parser.Parse(r.Expr)
	if err != nil {
		ps.add(exprError(r.Expr, err))
		return nil
	}
	reads, uses, err := references(r.Expr, &tree.Node)
	if err != nil {
		ps.add(err)
		return nil
	}
	for _, f := range reads {
		if !slices.Contains(r.Reads, f.name) {
			ps.add(fault.Invalidf("expr", "%s: reads %s, which the rule does not declare in reads", position(r.Expr, f.at), f.name))
		}
	}
	for _, d := range r.Reads {
		if _, ok := factTable[d]; ok && !slices.ContainsFunc(reads, func(x ref) bool { return x.name == d }) {
			ps.add(fault.Invalidf("reads", "declares %s, which the expression does not read", d))
		}
	}
	for _, u := range uses {
		if u.name == r.ID {
			ps.add(fault.Invalidf("expr", "%s: the rule cannot depend on itself", position(r.Expr, u.at)))
		} else if known != nil && !slices.Contains(known, u.name) {
			ps.add(fault.Invalidf("expr", "%s: statute(%q) is not a statute or right of the catalogue", position(r.Expr, u.at), u.name))
		}
		if !slices.Contains(c.uses, u.name) {
			c.uses = append(c.uses, u.name)
		}
	}
	program, err := expr.Compile(r.Expr, expr.Env(env{}), expr.AsBool())
	if err != nil {
		ps.add(exprError(r.Expr, err))
		return nil
	}
	return program
}

type ref struct {
	name string
	at   int // rune offset
}

// references lists the facts an expression reads and the statutes it calls for.
func references(src string, node *ast.Node) (reads, uses []ref, err error) {
	v := &refVisitor{}
	ast.Walk(node, v)
	if v.err != nil {
		return nil, nil, fault.Invalidf("expr", "%s: %s", position(src, v.errAt), v.err)
	}
	return v.reads, v.uses, nil
}

type refVisitor struct {
	reads, uses []ref
	callees     map[ast.Node]bool
	err         error
	errAt       int
}

func (v *refVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok || id.Value != "statute" {
			return
		}
		if v.callees == nil {
			v.callees = map[ast.Node]bool{}
		}
		v.callees[n.Callee] = true
		if len(n.Arguments) != 1 {
			v.fail(n, fmt.Errorf("statute takes one statute id"))
			return
		}
		s, ok := n.Arguments[0].(*ast.StringNode)
		if !ok {
			v.fail(n, fmt.Errorf("statute takes a statute id written as a string, such as statute(\"increased-reimbursement\")"))
			return
		}
		v.uses = append(v.uses, ref{s.Value, n.Location().From})
	case *ast.IdentifierNode:
		if n.Value == "statute" {
			return // checked by the call (the walk visits children first: see fix-up below)
		}
		if _, ok := factTable[n.Value]; ok && !slices.ContainsFunc(v.reads, func(r ref) bool { return r.name == n.Value }) {
			v.reads = append(v.reads, ref{n.Value, n.Location().From})
		}
	}
}

func (v *refVisitor) fail(n ast.Node, err error) {
	if v.err == nil {
		v.err, v.errAt = err, n.Location().From
	}
}

// exprError turns expr's error into a fault naming line, column and reason.
func exprError(src string, err error) error {
	var fe *file.Error
	if errors.As(err, &fe) {
		return fault.Invalidf("expr", "%s: %s", position(src, fe.From), fe.Message)
	}
	// A result of the wrong type has no position: it is the whole expression's.
	return fault.Invalidf("expr", "%s: %s (a rule must give true or false)", position(src, 0), clip(err.Error()))
}

// position writes a rune offset of src as "line L, column C" (both from 1).
func position(src string, at int) string {
	line, col := 1, 1
	for i := 0; i < at && len(src) > 0; i++ {
		r, size := utf8.DecodeRuneInString(src)
		src = src[size:]
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}
