package httpapi

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// filter keeps records whose JSON field name equals value, or, for a list field,
// contains it.
type filter struct {
	name, value string
}

// newFilter refuses names that are not fields of T, so a typo is an error, not an empty page.
func newFilter[T any](name, value string) (filter, error) {
	var zero T
	t := reflect.TypeOf(zero)
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if tag == name {
			return filter{name, value}, nil
		}
	}
	return filter{}, fault.Invalidf(name, "is not a field to filter on")
}

func matchAll[T any](v T, fs []filter) bool {
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return false
	}
	for _, f := range fs {
		if !matches(m[f.name], f.value) {
			return false
		}
	}
	return true
}

func matches(field any, want string) bool {
	switch x := field.(type) {
	case string:
		return x == want
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && s == want {
				return true
			}
		}
	}
	return false
}
