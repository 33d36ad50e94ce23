package dci

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/query"
)

// Expression reads a query of query_type "expression" in the hub's dialect: a small,
// Mongo-like JSON filter, as in the standard's examples. It is data, never code: it is
// decoded into the same condition tree as predicate lists, and nothing is evaluated.
//
// The query is {"type": "...", "value": V} (the spec's ExpTemplate; type is not checked)
// or V itself, where V is {"expression": E} or E, and E is {"collection": "Person",
// "query": F}; collection is optional and becomes the query's Entity. A filter F is an
// object whose members are AND-ed:
//
//	{"$and": [F, …]}                      every F holds
//	{"$or":  [F, …]}                      at least one F holds
//	{"$not": F}                           F does not hold
//	{"attr": {"$eq"|"$lt"|"$le"|"$gt"|"$ge": v}}   comparison ($lte, $gte accepted for $le, $ge)
//	{"attr": {"$in": [v, …]}}             attr is one of the values
//	{"attr": v}                           short for {"$eq": v}
//
// where v is a string, number or boolean and attr a name such as "address.region_code".
// Several operators under one attr are AND-ed. Nothing else is accepted (no $regex, $where,
// $expr, sub-documents or arrays as values); filters nest at most query.MaxDepth deep and
// hold at most query.MaxConds conditions.
//
// Example: {"expression": {"collection": "Person", "query": {"$and": [
// {"birth_date": {"$lt": "1960-01-01"}}, {"address.region": {"$eq": "R01"}}]}}}
func Expression(raw json.RawMessage) (filter *query.Cond, entity string, err error) {
	var m map[string]json.RawMessage
	if json.Valid(raw) {
		m = fields(raw)
	}
	if m == nil {
		return nil, "", fmt.Errorf("expression query must be an object")
	}
	if v, ok := m["value"]; ok {
		if m = fields(v); m == nil {
			return nil, "", fmt.Errorf("expression value must be an object")
		}
	}
	if v, ok := m["expression"]; ok {
		if m = fields(v); m == nil {
			return nil, "", fmt.Errorf("expression must be an object")
		}
	}
	for k := range m {
		if k != "collection" && k != "query" {
			return nil, "", fmt.Errorf("expression member %.40q is not supported", k)
		}
	}
	if entity, err = str(m, "collection"); err != nil {
		return nil, "", fmt.Errorf("collection must be a string")
	}
	if !present(m, "query") {
		return nil, "", fmt.Errorf("expression needs a query")
	}
	p := exprParser{}
	if filter, err = p.filter(m["query"], 1); err != nil {
		return nil, "", err
	}
	if err := filter.Validate(); err != nil {
		return nil, "", err
	}
	return filter, entity, nil
}

// exprParser counts conditions as it goes, so that a huge input stops early.
type exprParser struct{ n int }

func (p *exprParser) count(depth int) error {
	p.n++
	if p.n > query.MaxConds {
		return fmt.Errorf("more than %d conditions", query.MaxConds)
	}
	if depth > query.MaxDepth {
		return fmt.Errorf("conditions nested deeper than %d", query.MaxDepth)
	}
	return nil
}

func (p *exprParser) filter(raw json.RawMessage, depth int) (*query.Cond, error) {
	m := fields(raw)
	if len(m) == 0 {
		return nil, fmt.Errorf("a filter must be a non-empty object")
	}
	if len(m) > 1 { // the implicit $and of several members is a node of its own
		if err := p.count(depth); err != nil {
			return nil, err
		}
		depth++
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // a deterministic tree: map order is random
	var conds []*query.Cond
	for _, k := range keys {
		c, err := p.member(k, m[k], depth)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	if len(conds) == 1 {
		return conds[0], nil
	}
	return &query.Cond{Op: query.And, Args: conds}, nil
}

func (p *exprParser) member(key string, raw json.RawMessage, depth int) (*query.Cond, error) {
	switch key {
	case "$and", "$or":
		if err := p.count(depth); err != nil {
			return nil, err
		}
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 {
			return nil, fmt.Errorf("%s needs a non-empty list of filters", key)
		}
		c := &query.Cond{Op: key[1:]}
		for _, f := range list {
			a, err := p.filter(f, depth+1)
			if err != nil {
				return nil, err
			}
			c.Args = append(c.Args, a)
		}
		return c, nil
	case "$not":
		if err := p.count(depth); err != nil {
			return nil, err
		}
		a, err := p.filter(raw, depth+1)
		if err != nil {
			return nil, err
		}
		return &query.Cond{Op: query.Not, Args: []*query.Cond{a}}, nil
	}
	if strings.HasPrefix(key, "$") {
		return nil, fmt.Errorf("operator %.20q is not supported", key)
	}
	if !query.ValidAttr(key) {
		return nil, fmt.Errorf("bad attribute name %.40q", key)
	}
	return p.field(key, raw, depth)
}

var fieldOps = map[string]string{
	"$eq": query.Eq, "$lt": query.Lt, "$le": query.Le, "$lte": query.Le,
	"$gt": query.Gt, "$ge": query.Ge, "$gte": query.Ge, "$in": query.In,
}

// field reads the value of an attribute member: operators, or a bare value meaning $eq.
func (p *exprParser) field(attr string, raw json.RawMessage, depth int) (*query.Cond, error) {
	ops := fields(raw)
	if ops == nil {
		if err := p.count(depth); err != nil {
			return nil, err
		}
		v, err := scalar(raw, true)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", attr, err)
		}
		return &query.Cond{Op: query.Eq, Attr: attr, Value: v}, nil
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("%s: no operator", attr)
	}
	if len(ops) > 1 {
		if err := p.count(depth); err != nil {
			return nil, err
		}
		depth++
	}
	keys := make([]string, 0, len(ops))
	for k := range ops {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var conds []*query.Cond
	for _, k := range keys {
		op, ok := fieldOps[k]
		if !ok {
			return nil, fmt.Errorf("%s: operator %.20q is not supported", attr, k)
		}
		if err := p.count(depth); err != nil {
			return nil, err
		}
		if op == query.In && !isArray(ops[k]) {
			return nil, fmt.Errorf("%s: $in needs a list", attr)
		}
		v, err := operand(op, ops[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %v", attr, err)
		}
		conds = append(conds, &query.Cond{Op: op, Attr: attr, Value: v})
	}
	if len(conds) == 1 {
		return conds[0], nil
	}
	return &query.Cond{Op: query.And, Args: conds}, nil
}
