// Package dci is the wire format of the DCI (Digital Convergence Initiative) standard for
// social-protection registries: the {signature, header, message} envelope, search requests
// and answers, acknowledgements, error codes and message signatures. It does no exchange
// and no HTTP: the HTTP layer reads a body, calls DecodeSearch, hands each item's neutral
// query.Query to the exchange, and writes what NewSearchResponse, NewErrorAck or
// NewHTTPErrors build. Search is the same for the five registries (CRVS, SR, IBR, DR, FR).
//
// Decoding is strict where the standard is precise and lenient where implementations
// differ; each choice is documented where it is made (DecodeSearch, Predicates, Expression).
// Errors are *fault.Error values carrying their DCI code: fault.KindOf gives the HTTP layer
// its status, CodeOf the err.* or rjct.* code, SafeMessage the text a partner may read.
//
// Signatures come in the two incompatible forms found in the field: the Ed25519 signature
// string of the spec's example (SignEd25519, ParseSignature, VerifyEd25519) and a compact
// JWS (SignJWS, VerifyJWS). Both sign Canonical JSON of {"header", "message"}.
package dci
