package hub_test

import (
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/hub"
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
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Errorf("push token: %v", err)
		return
	}
	if typ, _ := jws.Signatures[0].Header.ExtraHeaders["typ"].(string); typ != hub.PushTokenType {
		t.Errorf("push token of type %q; want %q", typ, hub.PushTokenType)
	}
	resp, err := http.Get(hubURL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) == 0 {
		t.Errorf("push token signed with a key not in the hub's JWKS")
		return
	}
	payload, err := jws.Verify(keys[0].Key.(ed25519.PublicKey))
	if err != nil {
		t.Errorf("push token does not verify: %v", err)
		return
	}
	var c hub.PushClaims
	if json.Unmarshal(payload, &c) != nil || c.Audience != "subscriber:"+institution || time.Now().Unix() > c.Expires {
		t.Errorf("push token claims %s; want audience subscriber:%s, not expired", payload, institution)
	}
}
