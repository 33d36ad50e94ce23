// Package query is the neutral search model of the hub: what a partner asks a registry for,
// free of any wire format. The dci package decodes DCI search criteria into it; the exchange
// routes on it; sources either evaluate a Cond on their records with Eval or translate it to
// their own query language (SQL, an upstream API).
package query

import (
	"fmt"
	"regexp"
)

// The kinds of query.
const (
	KindID     = "id"     // look one identifier up: IDType, IDValue
	KindFilter = "filter" // select records matching Filter
)

// The operators of a Cond.
const (
	And = "and" // all Args hold (true when there are none)
	Or  = "or"  // at least one Arg holds
	Not = "not" // the single Arg does not hold
	Eq  = "eq"  // Attr equals Value
	Lt  = "lt"  // Attr < Value
	Le  = "le"  // Attr <= Value
	Gt  = "gt"  // Attr > Value
	Ge  = "ge"  // Attr >= Value
	In  = "in"  // Attr equals one of Value ([]string)
)

// Limits of a query, so that one request cannot make a source work without bound.
const (
	MaxConds    = 64  // nodes of a Filter tree, logical ones included
	MaxDepth    = 8   // nesting of a Filter tree; a lone comparison has depth 1
	MaxInValues = 100 // values of one "in"
	MaxValueLen = 256 // bytes of one value
	MaxSortKeys = 8
)

// Query is one search: either an identifier lookup or a filter, with an order and a page.
type Query struct {
	Kind    string // KindID or KindFilter
	IDType  string // KindID: the identifier's type as the requester names it ("UIN", "BRN")
	IDValue string // KindID: the identifier
	Filter  *Cond  // KindFilter: the condition records must meet
	Entity  string // kind of record asked for, when the request names one ("Person", "Group"); "" for the registry's default
	Sort    []SortKey
	// Opaque, when set, orders the records that tie on Sort (all of them without Sort)
	// by a hash of Opaque and the person number instead of by the number: the exchange
	// sets it for an asker not granted the person number, whose records would otherwise
	// come in birth order (a number starts with the birth date).
	Opaque   string
	Page     int // 1-based page number
	PageSize int // records per page, ≥ 1
	// Scope, when set, is every person a filter may see: the exchange sets it to the
	// persons the asker holds a file on. A source that searches within a scope computes
	// matches, counts, pages, order and errors over it alone, as if no other person were
	// in the register. nil: no such bound (an authorization that needs no file).
	Scope Scope
}

// Scope is a set of persons, by person number (11 digits).
type Scope interface {
	Len() int
	Contains(person string) bool
	// Persons lists the persons in increasing order, from the first after after ("":
	// the start), at most limit of them.
	Persons(after string, limit int) []string
}

// Pinned lists the attributes every record matching c has fixed by equality: an eq
// pins its attribute, an and the union of what its conditions pin, an or what all its
// branches pin; anything else (a comparison, in, not) pins nothing. An identification
// (directory.Authorization.Identify) asks a filter that pins each of its fields.
func (c *Cond) Pinned() map[string]bool {
	out := map[string]bool{}
	if c == nil {
		return out
	}
	switch c.Op {
	case Eq:
		if _, ok := c.Value.(string); ok {
			out[c.Attr] = true
		}
	case And:
		for _, a := range c.Args {
			for k := range a.Pinned() {
				out[k] = true
			}
		}
	case Or:
		for i, a := range c.Args {
			p := a.Pinned()
			if i == 0 {
				out = p
				continue
			}
			for k := range out {
				if !p[k] {
					delete(out, k)
				}
			}
		}
	}
	return out
}

// Offset is the number of records before the page.
func (q *Query) Offset() int { return (q.Page - 1) * q.PageSize }

// SortKey orders results by one attribute.
type SortKey struct {
	Attr string
	Desc bool
}

// Cond is a condition on a record's attributes. Logical nodes (And, Or, Not) have Args;
// comparisons have Attr and Value, a string, or a []string for In.
type Cond struct {
	Op    string
	Attr  string
	Value any
	Args  []*Cond
}

// attrRE is the shape of an attribute name: letters, digits and _ . : @ -, as in
// "birth_date", "address.region_code", "@type". Sources must still map names to their own
// fields through an allow-list; the shape only keeps quoting and injection out of reach.
var attrRE = regexp.MustCompile(`^[A-Za-z_@][A-Za-z0-9_.:@-]{0,127}$`)

// ValidAttr reports whether name is an acceptable attribute name.
func ValidAttr(name string) bool { return attrRE.MatchString(name) }

// Validate checks the tree's shape and the limits: operators known, Args only on logical
// nodes, one Arg for Not, attribute names well formed, values of the right type and size.
func (c *Cond) Validate() error {
	n := 0
	return c.validate(1, &n)
}

func (c *Cond) validate(depth int, n *int) error {
	if c == nil {
		return fmt.Errorf("empty condition")
	}
	*n++
	if *n > MaxConds {
		return fmt.Errorf("more than %d conditions", MaxConds)
	}
	if depth > MaxDepth {
		return fmt.Errorf("conditions nested deeper than %d", MaxDepth)
	}
	switch c.Op {
	case And, Or, Not:
		if c.Op == Not && len(c.Args) != 1 {
			return fmt.Errorf("not takes one condition, not %d", len(c.Args))
		}
		if c.Op != Not && len(c.Args) == 0 {
			return fmt.Errorf("%s needs at least one condition", c.Op)
		}
		for _, a := range c.Args {
			if err := a.validate(depth+1, n); err != nil {
				return err
			}
		}
		return nil
	case Eq, Lt, Le, Gt, Ge, In:
		if len(c.Args) != 0 {
			return fmt.Errorf("%s takes no sub-conditions", c.Op)
		}
		if !ValidAttr(c.Attr) {
			return fmt.Errorf("bad attribute name %q", c.Attr)
		}
		return validValue(c.Op, c.Value)
	default:
		return fmt.Errorf("unknown operator %q", c.Op)
	}
}

func validValue(op string, v any) error {
	if op == In {
		vs, ok := v.([]string)
		if !ok || len(vs) == 0 || len(vs) > MaxInValues {
			return fmt.Errorf("in needs 1 to %d values", MaxInValues)
		}
		for _, s := range vs {
			if len(s) > MaxValueLen {
				return fmt.Errorf("value longer than %d bytes", MaxValueLen)
			}
		}
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("%s needs a single value", op)
	}
	if len(s) > MaxValueLen {
		return fmt.Errorf("value longer than %d bytes", MaxValueLen)
	}
	return nil
}

// Eval reports whether a record meets c. get returns the record's value of an attribute as
// a string, and false when the record has none.
//
// Comparisons compare numerically when both sides are plain decimal numbers ("25", "-2.5";
// exponents are not numbers here), and otherwise byte-wise as strings, so dates compare
// correctly when both are written YYYY-MM-DD. A comparison on a missing attribute is false,
// and Not negates it: logic is two-valued (SQL translators wanting the same result write
// NOT (x = ?) as x IS NULL OR x <> ?). Eval never panics; a malformed tree is false where
// it is malformed.
func (c *Cond) Eval(get func(attr string) (string, bool)) bool {
	if c == nil {
		return false
	}
	switch c.Op {
	case And:
		for _, a := range c.Args {
			if !a.Eval(get) {
				return false
			}
		}
		return true
	case Or:
		for _, a := range c.Args {
			if a.Eval(get) {
				return true
			}
		}
		return false
	case Not:
		return len(c.Args) == 1 && !c.Args[0].Eval(get)
	}
	v, ok := get(c.Attr)
	if !ok {
		return false
	}
	switch c.Op {
	case In:
		vs, _ := c.Value.([]string)
		for _, w := range vs {
			if Compare(v, w) == 0 {
				return true
			}
		}
		return false
	case Eq, Lt, Le, Gt, Ge:
		w, ok := c.Value.(string)
		if !ok {
			return false
		}
		return holds(c.Op, Compare(v, w))
	}
	return false
}

func holds(op string, cmp int) bool {
	switch op {
	case Eq:
		return cmp == 0
	case Lt:
		return cmp < 0
	case Le:
		return cmp <= 0
	case Gt:
		return cmp > 0
	case Ge:
		return cmp >= 0
	}
	return false
}

// Size is the number of nodes of the tree.
func (c *Cond) Size() int {
	if c == nil {
		return 0
	}
	n := 1
	for _, a := range c.Args {
		n += a.Size()
	}
	return n
}

// String writes c in a compact prefix form, for logs and test failures:
// and(eq(sex,"female"),lt(birth_date,"1960-01-01")).
func (c *Cond) String() string {
	if c == nil {
		return "<nil>"
	}
	switch c.Op {
	case And, Or, Not:
		s := c.Op + "("
		for i, a := range c.Args {
			if i > 0 {
				s += ","
			}
			s += a.String()
		}
		return s + ")"
	}
	return fmt.Sprintf("%s(%s,%q)", c.Op, c.Attr, c.Value)
}
