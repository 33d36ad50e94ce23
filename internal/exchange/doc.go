// Package exchange is the trusted third party at the heart of the hub: an institution's
// application asks a question about persons; the exchange decides *before* anything
// happens whether the question is allowed (an authorization of the asker's institution
// for this service, in force on the day, for the purpose, covering the fields; and, for a
// question about a person, a file on that person in the asker's person directory in a
// capacity the authorization accepts), routes the question to the authentic source,
// removes every field the authorization does not cover, and has the exchange recorded in
// the audit log — refusing the answer if it cannot be recorded.
//
// The decision is made from in-memory indexes (authorizations, person directory) so it
// costs microseconds; every decision carries its reasons. The protocol (DCI) lives apart,
// in internal/dci; the sources are reached through the Source interface, the same for the
// built-in civil register and for a remote registry over HTTP.
package exchange
