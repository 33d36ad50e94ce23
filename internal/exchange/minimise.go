package exchange

import "strings"

// Minimise returns a copy of record holding only the fields listed. A field is a dotted
// path ("address.street"); naming a parent ("address") keeps the whole object. Fields
// whose name starts with "@" (JSON-LD markers such as "@type") are kept.
func Minimise(record map[string]any, fields []string) map[string]any {
	out := make(map[string]any, len(fields))
	for k, v := range record {
		if strings.HasPrefix(k, "@") {
			out[k] = v
			continue
		}
		if sub := Allowed(k, fields); sub != nil {
			if m, ok := v.(map[string]any); ok && len(sub) > 0 {
				if kept := Minimise(m, sub); len(kept) > 0 {
					out[k] = kept
				}
				continue
			}
			if len(sub) == 0 {
				out[k] = v
			}
		}
	}
	return out
}

// Allowed says whether key may be kept under fields: nil no; an empty list yes,
// entirely; otherwise only the listed sub-fields (and then only an object's).
func Allowed(key string, fields []string) []string {
	var sub []string
	for _, f := range fields {
		if f == key {
			return []string{}
		}
		if len(f) > len(key) && f[len(key)] == '.' && strings.HasPrefix(f, key) {
			sub = append(sub, f[len(key)+1:])
		}
	}
	return sub
}
