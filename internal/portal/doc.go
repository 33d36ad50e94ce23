// Package portal serves the citizen and professional portal under /portal/: pages
// rendered on the server (html/template, no script framework) that work on a phone.
//
// A citizen logs in with the national e-ID (an OpenID Connect provider: authorization
// code with PKCE, private_key_jwt client authentication; oidc.go) or a one-time code
// sent through a Sender (otp.go). The session, kept on the server and named by a random
// cookie, says who they are: no person number ever appears in a URL. Every read of
// their data goes through the hub's exchange as the person themselves
// (exchange.SearchSelf) and is sealed in the audit log before it is shown; "who
// consulted my data" reads the audit log's person index, each record with its
// inclusion proof.
//
// A citizen proves a status with a short code (online, single person, limited time,
// rate-limited) or a signed credential (a W3C verifiable credential as a JWT, EdDSA,
// signed with the hub's published key; credential.go) shown as a QR code. A verifier
// institution's application logs in with its client credentials and checks a code or a
// credential: it sees valid or not and the name, nothing more, and each check is
// recorded in the audit log under the person, so the citizen sees it.
package portal
