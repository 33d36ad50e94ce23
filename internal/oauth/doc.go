// Package oauth makes the hub an OAuth 2.0 authorization server for the applications of
// its member institutions, as the DCI authorization API asks (POST /oauth2/client/token,
// grant client_credentials, and GET /.well-known/jwks.json for the keys).
//
// An application authenticates with its client secret (client_secret_post or
// client_secret_basic) or with a JWT signed by one of its registered keys
// (private_key_jwt, RFC 7523) and receives a short-lived access token: a JWS signed by
// the hub with Ed25519 (RFC 9068 "at+jwt" profile). Every exchange then presents the
// token, and Verify checks it; Verify is on the hot path, so it caches what it can
// without accepting anything it would otherwise refuse.
//
// The package speaks no HTTP: the HTTP layer parses the form and the Basic credentials,
// calls Token or Verify, and writes the result, choosing the status from ErrorCode.
// Time, randomness and keys are injected so that tests are deterministic.
package oauth
