// Package sqlstore implements the hub's store interfaces on SQL databases: the directory
// (directory.Store), the population register (population.Store) and the ledger of issued
// numbers (ident.Ledger), for SQLite (modernc.org/sqlite, pure Go) and PostgreSQL (pgx).
//
// Open takes a DSN and the schemas to migrate. A schema is a set of tables with its own
// embedded goose migrations and its own version table, so the demo can keep the hub's
// routing data and the civil register in two SQLite files while PostgreSQL holds both in
// one database.
//
// Queries are written once with '?' placeholders and rebound to $n for PostgreSQL. Keys are
// integers where they can be: person numbers are INTEGER (formatted back with %011d) and
// dates are YYYYMMDD integers, with an open period end stored as date.Max. Times are unix
// nanoseconds.
//
// On SQLite, writes go through a single connection and reads through a separate pool of
// query-only connections with a memory map, so that lookups do not queue behind a batch.
// A hub that owns its files opens them with "?exclusive=1", which takes a quarter off the
// CPU time of a lookup but keeps other processes, such as the CLI, out while it runs.
package sqlstore
