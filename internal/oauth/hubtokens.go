package oauth

// Besides the access tokens it issues to applications (TokenType), the hub signs tokens
// for itself with the same keys (SignJWS): it presents them where it is the caller.
// Their typ header keeps one kind from being taken for another.
const (
	// PushTokenType is the typ of the bearer tokens the hub presents to subscribers
	// when it pushes: audience "subscriber:<institution>", issuer the hub's sender id,
	// 5 minutes; subscribers verify them with /.well-known/jwks.json.
	PushTokenType = "push+jwt"
	// SourceTokenType is the typ of the tokens the hub gives itself to call its
	// built-in sources over HTTP: audience "source:<name>", no issuer, 5 minutes.
	SourceTokenType = "source+jwt"
)

// HubClaims are the claims of the tokens the hub signs for itself (push and source
// tokens). A source token has no issuer: it leaves iss out.
type HubClaims struct {
	Issuer   string `json:"iss,omitempty"`
	Audience string `json:"aud"`
	Expires  int64  `json:"exp"`
}
