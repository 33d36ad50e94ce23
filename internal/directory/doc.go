// Package directory is the reference directory of the hub: the routing knowledge that lets
// it decide, before any exchange, who may ask what about whom. It never holds the data
// itself (that stays in the authentic sources), only:
//
//   - institutions, the members of the network, and their applications (clients) with keys;
//   - services, what each authentic source offers (registry type, data sets, fields, endpoint);
//   - authorizations ("deliberations"): which institution may use which service, for which
//     purpose and fields, under which legal basis, in which capacities, when — public by law;
//   - the person directory: which institution has a file on which person, in which capacity,
//     over which period;
//   - subscriptions: which institution wants which events pushed or pulled, where.
//
// Low-volume entities are stored as versioned JSON records with a history of every change
// (who, when, before, after); the person directory, which holds millions of lines, has its
// own table and a batch integration path with a per-line report. The Store interface is
// implemented by internal/sqlstore for SQLite and PostgreSQL and checked by the contract
// suite in directorytest.
//
// The URLs the hub posts to (callbacks, push endpoints, remote services) are checked here
// (endpoint.go) for every caller: parsed, compared as URLs, never as strings.
package directory
