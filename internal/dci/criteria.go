package dci

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/query"
	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// Page sizes. The standard sets no bound; the hub clamps larger requests to MaxPageSize
// and reports the size it used in the answer's pagination.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// buildQuery turns search criteria into the neutral query (with an error, the query as
// far as it was read, or nil). The query_type decides how
// query is read, never the shape of query (the spec's oneOf/anyOf is ambiguous).
func buildQuery(c *SearchCriteria) (*query.Query, error) {
	q := &query.Query{Entity: c.ResponseEntity}
	var err error
	switch c.QueryType {
	case QueryIDTypeValue:
		q.Kind = query.KindID
		q.IDType, q.IDValue, err = idTypeValue(c.Query)
	case QueryPredicate:
		q.Kind = query.KindFilter
		q.Filter, err = Predicates(c.Query)
	case QueryExpression:
		q.Kind = query.KindFilter
		var entity string
		if isArray(c.Query) { // the samples send predicate lists as "expression"
			q.Filter, err = Predicates(c.Query)
		} else {
			q.Filter, entity, err = Expression(c.Query)
		}
		if q.Entity == "" {
			q.Entity = entity
		}
	default:
		err = fmt.Errorf("query_type %.40q is not supported; use %s, %s or %s", c.QueryType, QueryIDTypeValue, QueryPredicate, QueryExpression)
	}
	if err != nil {
		return nil, reject(RjctCriteriaInvalid, "query", err.Error())
	}
	// A sort or page that cannot be read rejects the item, but its query is returned
	// with the error: the audit record still names whom it asked about (Asked).
	if q.Sort, err = sortKeys(c.Sort); err != nil {
		return q, reject(RjctSortInvalid, "sort", err.Error())
	}
	if q.Page, q.PageSize, err = pagination(c.Pagination); err != nil {
		return q, reject(RjctPaginationInvalid, "pagination", err.Error())
	}
	return q, nil
}

func isArray(b json.RawMessage) bool {
	b = json.RawMessage(strings.TrimSpace(string(b)))
	return len(b) > 0 && b[0] == '['
}

// idTypeValue reads {"type": "UIN", "value": "847951632"}; a numeric value is kept as written.
func idTypeValue(raw json.RawMessage) (idType, value string, err error) {
	m := fields(raw)
	if m == nil {
		return "", "", fmt.Errorf("idtype-value query must be an object {type, value}")
	}
	idType, err = str(m, "type")
	if err != nil || idType == "" || len(idType) > 128 || strings.ContainsFunc(idType, isControl) {
		return "", "", fmt.Errorf("idtype-value query needs a type")
	}
	v, ok := m["value"]
	if !ok {
		return "", "", fmt.Errorf("idtype-value query needs a value")
	}
	value, err = scalar(v, false)
	if err != nil || value == "" {
		return "", "", fmt.Errorf("idtype-value value must be a non-empty string or number")
	}
	if len(value) > query.MaxValueLen {
		return "", "", fmt.Errorf("idtype-value value is longer than %d bytes", query.MaxValueLen)
	}
	return idType, value, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// scalar reads a query value: a string as is, a number as a plain decimal ("1e3" → "1000"),
// and, when bools is set, true or false as "true" or "false". Objects, arrays and null are refused.
func scalar(raw json.RawMessage, bools bool) (string, error) {
	if len(raw) > 0 && raw[0] == '"' {
		if s, ok := unquote(raw); ok {
			return s, nil
		}
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("bad value")
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return number(v)
	case bool:
		if bools {
			return fmt.Sprint(v), nil
		}
	}
	return "", fmt.Errorf("value must be a string or a number")
}

// number writes a JSON number as a plain decimal, so that query.Compare compares it
// numerically: 25 → "25", 2.5 → "2.5", 1e3 → "1000".
func number(n json.Number) (string, error) {
	s := n.String()
	if !strings.ContainsAny(s, "eE") {
		return s, nil
	}
	f, err := n.Float64()
	if err != nil {
		return "", fmt.Errorf("number %.40s is out of range", s)
	}
	out := strconv.FormatFloat(f, 'f', -1, 64)
	if len(out) > query.MaxValueLen {
		return "", fmt.Errorf("number %.40s is too long", s)
	}
	return out, nil
}

func sortKeys(raw json.RawMessage) ([]query.SortKey, error) {
	if raw == nil {
		return nil, nil
	}
	var list []struct {
		Attr  string `json:"attribute_name"`
		Order string `json:"sort_order"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("must be a list of {attribute_name, sort_order}")
	}
	if len(list) > query.MaxSortKeys {
		return nil, fmt.Errorf("more than %d sort keys", query.MaxSortKeys)
	}
	keys := make([]query.SortKey, 0, len(list))
	for _, s := range list {
		if !query.ValidAttr(s.Attr) {
			return nil, fmt.Errorf("bad attribute_name %.40q", s.Attr)
		}
		switch s.Order {
		case "", "asc":
			keys = append(keys, query.SortKey{Attr: s.Attr})
		case "desc":
			keys = append(keys, query.SortKey{Attr: s.Attr, Desc: true})
		default:
			return nil, fmt.Errorf("sort_order must be asc or desc")
		}
	}
	return keys, nil
}

// pagination reads {page_size, page_number}: page_size is required and page_number
// defaults to 1; both start at 1. Without pagination the first page of DefaultPageSize.
// plainPagination reads the common case of a pagination, an object of page_size and
// page_number with plain counts, as json.Unmarshal would; false for anything else (other
// or differently cased names, which json.Unmarshal may match, other numbers), which is
// left to it.
func plainPagination(raw json.RawMessage, size, number **Count) bool {
	return rawjson.EachMember(raw, func(name string, v []byte) bool {
		n, ok := plainCount(v)
		switch {
		case !ok:
			return false
		case name == "page_size":
			*size = &n
		case name == "page_number":
			*number = &n
		default:
			return false
		}
		return true
	})
}

func pagination(raw json.RawMessage) (page, size int, err error) {
	if raw == nil {
		return 1, DefaultPageSize, nil
	}
	var p struct {
		PageSize   *Count `json:"page_size"`
		PageNumber *Count `json:"page_number"`
	}
	if !plainPagination(raw, &p.PageSize, &p.PageNumber) {
		p.PageSize, p.PageNumber = nil, nil
		if err := json.Unmarshal(raw, &p); err != nil {
			return 0, 0, fmt.Errorf("must be {page_size, page_number}, whole numbers from 1 to %d", math.MaxInt32)
		}
	}
	if p.PageSize == nil || *p.PageSize < 1 {
		return 0, 0, fmt.Errorf("page_size is required and starts at 1")
	}
	page, size = 1, min(int(*p.PageSize), MaxPageSize)
	if p.PageNumber != nil {
		if *p.PageNumber < 1 {
			return 0, 0, fmt.Errorf("page_number starts at 1")
		}
		page = int(*p.PageNumber)
	}
	return page, size, nil
}
