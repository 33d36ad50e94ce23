// Package attack is the hub's attack suite: tests that try, as an outsider with the
// demo's own kinds of clients would, to get more out of a running hub than its
// authorizations allow — other persons, other fields, other dates, counts, URLs, sizes,
// load — and check that each attempt is refused and can be found in the audit log.
//
// Every test starts a real hub (SQLite stores, embedded event bus) on a small synthetic
// nation and speaks to it over HTTP only. The package holds no production code.
package attack
