package sqlstore

// SetScopeFirst sets the scope size below which a scoped search reads the scope's persons
// rather than the register's candidates, and returns a function that restores it.
func SetScopeFirst(n int) (restore func()) {
	old := scopeFirst
	scopeFirst = n
	return func() { scopeFirst = old }
}
