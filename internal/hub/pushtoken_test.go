package hub_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/oauth"
)

// checkPushToken checks the bearer token of a push, as a subscriber would: a JWS of type
// push+jwt signed by a key of the hub's JWKS, for the subscriber's institution, not
// expired.
func checkPushToken(t *testing.T, hubURL, authorization, institution string) {
	t.Helper()
	tok, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		t.Errorf("push to %s without a bearer token: %q", institution, authorization)
		return
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Errorf("push token: %v", err)
		return
	}
	if typ, _ := jws.Signatures[0].Header.ExtraHeaders["typ"].(string); typ != oauth.PushTokenType {
		t.Errorf("push token of type %q; want %q", typ, oauth.PushTokenType)
	}
	payload, err := jws.Verify(hubKey(t, hubURL, jws.Signatures[0].Header.KeyID))
	if err != nil {
		t.Errorf("push token does not verify: %v", err)
		return
	}
	var c oauth.HubClaims
	if json.Unmarshal(payload, &c) != nil || c.Audience != "subscriber:"+institution || time.Now().Unix() > c.Expires {
		t.Errorf("push token claims %s; want audience subscriber:%s, not expired", payload, institution)
	}
}
