package hub

import "github.com/crossroads-hub/crossroads/internal/httpapi"

// memorySizes are the wiring's in-memory structures that grow with traffic, for
// /metrics beside the HTTP API's own (httpapi.Deps.Sizes).
func memorySizes(st *Stores) map[string]httpapi.Size {
	_, most := st.Hub.AuditNamesCached()
	return map[string]httpapi.Size{
		"crossroads_audit_names_cached": {Help: "Texts of the audit log's dictionary remembered in memory, both ways (the table holds them all).",
			Len: func() int { n, _ := st.Hub.AuditNamesCached(); return n }, Max: most},
	}
}
