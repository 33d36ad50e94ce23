package dci

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/query"
)

// Predicates reads a DCI predicate list (ExpPredicateWithConditionList) into a condition.
//
// How the list is read, since the standard does not say:
//
//   - Each item is one term: "expression1" alone; "expression1 and expression2";
//     "expression1 or expression2"; or, for condition "not", "not expression1".
//   - The terms of the list are AND-ed. Items are taken in seq_num order (items without
//     seq_num after those with one, in list order); as AND is commutative, the order only
//     fixes the shape of the tree, never its meaning.
//   - Where the reading is open, the hub takes the one that can only return fewer records,
//     or refuses: expression2 without a condition is AND-ed; condition "and"/"or" without
//     expression2 is just expression1 (the samples send condition "" and expression2 "");
//     "not" with an expression2 is refused ("A not B" reads as "A and not B" or as "not A");
//     members other than seq_num, expression1, condition and expression2 (the samples'
//     "expression3") are refused rather than ignored.
//   - An expression is {attribute_name, operator: gt|lt|eq|ge|le|in, attribute_value}.
//     Values are strings, numbers or booleans; "in" takes a list, or a string of
//     comma-separated values.
//   - At most query.MaxConds conditions in all.
func Predicates(raw json.RawMessage) (*query.Cond, error) {
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("predicate query must be a list of {seq_num, expression1, condition, expression2}")
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("predicate list is empty")
	}
	if len(items) > query.MaxConds {
		return nil, fmt.Errorf("more than %d predicates", query.MaxConds)
	}
	terms := make([]term, len(items))
	for i, it := range items {
		t, err := predicateTerm(it)
		if err != nil {
			return nil, fmt.Errorf("predicate %d: %v", i+1, err)
		}
		terms[i] = t
	}
	sort.SliceStable(terms, func(i, j int) bool { return terms[i].seq < terms[j].seq })
	conds := make([]*query.Cond, len(terms))
	for i, t := range terms {
		conds[i] = t.cond
	}
	c := and(conds)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

type term struct {
	seq  float64 // +Inf-like when absent
	cond *query.Cond
}

const noSeq = 1e308

func predicateTerm(m map[string]json.RawMessage) (term, error) {
	for k := range m {
		switch k {
		case "seq_num", "expression1", "condition", "expression2":
		default:
			return term{}, fmt.Errorf("unknown member %.40q", k)
		}
	}
	t := term{seq: noSeq}
	if v := m["seq_num"]; !isEmpty(v) {
		var n Count
		if err := json.Unmarshal(v, &n); err != nil {
			return term{}, fmt.Errorf("seq_num must be a whole number")
		}
		t.seq = float64(n)
	}
	e1, ok := m["expression1"]
	if !ok || isEmpty(e1) {
		return term{}, fmt.Errorf("expression1 is required")
	}
	c1, err := comparison(e1)
	if err != nil {
		return term{}, fmt.Errorf("expression1: %v", err)
	}
	cond, err := str(m, "condition")
	if err != nil {
		return term{}, fmt.Errorf("condition must be and, or or not")
	}
	cond = strings.ToLower(cond)
	var c2 *query.Cond
	if e2 := m["expression2"]; !isEmpty(e2) {
		if c2, err = comparison(e2); err != nil {
			return term{}, fmt.Errorf("expression2: %v", err)
		}
	}
	switch {
	case cond != "" && cond != query.And && cond != query.Or && cond != query.Not:
		return term{}, fmt.Errorf("condition must be and, or or not")
	case cond == query.Not && c2 != nil:
		return term{}, fmt.Errorf(`condition "not" with expression2 is ambiguous; send "not" with expression1 only`)
	case cond == query.Not:
		t.cond = &query.Cond{Op: query.Not, Args: []*query.Cond{c1}}
	case c2 == nil:
		t.cond = c1
	case cond == query.Or:
		t.cond = &query.Cond{Op: query.Or, Args: []*query.Cond{c1, c2}}
	default: // "and", or no condition
		t.cond = and([]*query.Cond{c1, c2})
	}
	return t, nil
}

// comparison reads {attribute_name, operator, attribute_value}.
func comparison(raw json.RawMessage) (*query.Cond, error) {
	m := fields(raw)
	if m == nil {
		return nil, fmt.Errorf("must be {attribute_name, operator, attribute_value}")
	}
	attr, err := str(m, "attribute_name")
	if err != nil || !query.ValidAttr(attr) {
		return nil, fmt.Errorf("bad attribute_name %.40q", attr)
	}
	op, err := str(m, "operator")
	if err != nil {
		return nil, fmt.Errorf("operator must be a string")
	}
	switch op {
	case query.Eq, query.Lt, query.Le, query.Gt, query.Ge, query.In:
	default:
		return nil, fmt.Errorf("operator %.20q is not one of gt, lt, eq, ge, le, in", op)
	}
	v, ok := m["attribute_value"]
	if !ok {
		return nil, fmt.Errorf("attribute_value is required")
	}
	val, err := operand(op, v)
	if err != nil {
		return nil, err
	}
	return &query.Cond{Op: op, Attr: attr, Value: val}, nil
}

// operand reads the value of a comparison: a string for gt, lt, eq, ge and le; a list of
// strings for in, from a JSON list or a comma-separated string.
func operand(op string, raw json.RawMessage) (any, error) {
	if op != query.In {
		return scalar(raw, true)
	}
	if isArray(raw) {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("bad list")
		}
		if len(list) == 0 || len(list) > query.MaxInValues {
			return nil, fmt.Errorf("in needs 1 to %d values", query.MaxInValues)
		}
		vs := make([]string, len(list))
		for i, e := range list {
			s, err := scalar(e, true)
			if err != nil {
				return nil, err
			}
			vs[i] = s
		}
		return vs, nil
	}
	s, err := scalar(raw, true)
	if err != nil {
		return nil, err
	}
	vs := strings.Split(s, ",")
	if len(vs) > query.MaxInValues {
		return nil, fmt.Errorf("in needs 1 to %d values", query.MaxInValues)
	}
	for i := range vs {
		vs[i] = strings.TrimSpace(vs[i])
	}
	return vs, nil
}

// and joins conditions, flattening nested ands; one condition stands alone.
func and(cs []*query.Cond) *query.Cond {
	var args []*query.Cond
	for _, c := range cs {
		if c.Op == query.And {
			args = append(args, c.Args...)
		} else {
			args = append(args, c)
		}
	}
	if len(args) == 1 {
		return args[0]
	}
	return &query.Cond{Op: query.And, Args: args}
}
