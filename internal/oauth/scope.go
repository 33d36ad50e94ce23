package oauth

import (
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Scopes the hub grants. What an institution may actually see is decided per exchange by
// its authorizations; a scope only says which kind of call the token may make.
const (
	ScopeRegistrySearch    = "registry.search"
	ScopeRegistrySubscribe = "registry.subscribe"
	ScopeRegistryTxnStatus = "registry.txn_status"
	ScopeRegistryNotify    = "registry.notify" // an authentic source notifying the hub of changes
	ScopeDirectoryRead     = "directory.read"
	// An employer or payroll office declaring to the employment source; whom for is
	// decided per declaration by the mandates in the directory.
	ScopeDeclarationSubmit = "declaration.submit"
	// An institution competent for a social risk reading the declarations routed to it
	// and acknowledging them; which ones is decided by the routing, not the scope.
	ScopeDeclarationReceive = "declaration.receive"
)

// Scopes lists the known scopes in their canonical order.
var Scopes = []string{ScopeRegistrySearch, ScopeRegistrySubscribe, ScopeRegistryTxnStatus, ScopeRegistryNotify, ScopeDirectoryRead, ScopeDeclarationSubmit,
	ScopeDeclarationReceive}

// defaultScopes are granted to a request that names none: every scope but the
// declarations' (declaration.submit, declaration.receive), asked for by name.
var defaultScopes = Scopes[:len(Scopes)-2]

// parseScope reads a space-separated scope parameter (RFC 6749 §3.3) and returns the
// scopes in canonical order, without duplicates. A request that names none is granted
// every scope an application may hold (RFC 6749 §3.3 lets the server choose a default):
// any application may ask for any of them, and what it may see is decided per exchange,
// so a narrower default only makes a client that did not know to ask fail later (a
// subscribe refused for want of registry.subscribe).
func parseScope(s string) ([]string, error) {
	words := strings.Fields(s)
	if len(words) == 0 {
		return slices.Clone(defaultScopes), nil
	}
	for _, w := range words {
		if !slices.Contains(Scopes, w) {
			return nil, oauthErr(fault.Invalid, CodeInvalidScope, "scope", nil,
				"unknown scope %q; known scopes: %s", clip(w), strings.Join(Scopes, " "))
		}
	}
	var out []string
	for _, known := range Scopes {
		if slices.Contains(words, known) {
			out = append(out, known)
		}
	}
	return out, nil
}
