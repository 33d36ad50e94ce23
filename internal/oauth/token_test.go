package oauth

import (
	"context"
	"crypto/ed25519"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// request is a token request: the form and the HTTP Basic credentials.
type request struct {
	form       url.Values
	user, pass string
}

func secretPost(id, secret string, extra ...string) request {
	f := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return request{form: f}
}

func withClaims(h *hub, change func(map[string]any)) map[string]any {
	c := h.claims()
	change(c)
	return c
}

// allScopes is what a token request that names no scope is granted: every scope the
// hub grants, so that a client that did not know to ask is not refused later.
const allScopes = "registry.search registry.subscribe registry.txn_status registry.notify directory.read"

func TestToken(t *testing.T) {
	h := newHub(t)
	tests := []struct {
		name      string
		req       func(h *hub) request
		wantCode  string // "" for success
		wantKind  fault.Kind
		wantMsg   string // part of the message
		wantScope string
	}{
		{name: "secret post", req: func(h *hub) request { return secretPost("app-secret", h.secrets["app-secret"]) }, wantScope: allScopes},
		{name: "secret basic", req: func(h *hub) request {
			return request{form: url.Values{"grant_type": {"client_credentials"}}, user: "app-secret", pass: h.secrets["app-secret"]}
		}, wantScope: allScopes},
		{name: "secret basic with the same client_id in the form", req: func(h *hub) request {
			return request{form: url.Values{"grant_type": {"client_credentials"}, "client_id": {"app-secret"}}, user: "app-secret", pass: h.secrets["app-secret"]}
		}, wantScope: allScopes},
		{name: "scopes in canonical order", req: func(h *hub) request {
			return secretPost("app-secret", h.secrets["app-secret"], "scope", "directory.read  registry.search directory.read")
		}, wantScope: "registry.search directory.read"},
		{name: "wrong secret", req: func(h *hub) request { return secretPost("app-secret", h.secrets["app-secret"]+"x") },
			wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "unknown client or wrong secret"},
		{name: "another client's secret", req: func(h *hub) request { return secretPost("app-secret", h.secrets["app-jwt"]) },
			wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "unknown client or wrong secret"},
		{name: "unknown client", req: func(h *hub) request { return secretPost("app-nobody", "crc.app-nobody.abc") },
			wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "unknown client or wrong secret"},
		{name: "wrong basic password", req: func(h *hub) request {
			return request{form: url.Values{"grant_type": {"client_credentials"}}, user: "app-secret", pass: "crc.app-secret.nope"}
		}, wantCode: CodeInvalidClient, wantKind: fault.Unauthorized},
		{name: "suspended application", req: func(h *hub) request { return secretPost("app-suspended", h.secrets["app-suspended"]) },
			wantCode: CodeUnauthorizedClient, wantKind: fault.Forbidden, wantMsg: "suspended"},
		{name: "secret for a private_key_jwt application", req: func(h *hub) request { return secretPost("app-jwt", h.secrets["app-jwt"]) },
			wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "not allowed to authenticate with client_secret"},
		{name: "assertion for a client_secret application", req: func(h *hub) request {
			return request{form: assertionForm(sign(t, edKey(t, "ed-s", 2), jose.EdDSA, withClaims(h, func(c map[string]any) {
				c["iss"], c["sub"] = "app-secret", "app-secret"
			})))}
		}, wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "not allowed to authenticate with private_key_jwt"},
		{name: "no client authentication", req: func(h *hub) request {
			return request{form: url.Values{"grant_type": {"client_credentials"}, "client_id": {"app-secret"}}}
		}, wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "client authentication required"},
		{name: "two authentication methods", req: func(h *hub) request {
			r := secretPost("app-secret", h.secrets["app-secret"])
			r.user, r.pass = "app-secret", h.secrets["app-secret"]
			return r
		}, wantCode: CodeInvalidRequest, wantKind: fault.Invalid, wantMsg: "exactly one"},
		{name: "basic user differs from client_id", req: func(h *hub) request {
			return request{form: url.Values{"grant_type": {"client_credentials"}, "client_id": {"app-jwt"}}, user: "app-secret", pass: h.secrets["app-secret"]}
		}, wantCode: CodeInvalidRequest, wantKind: fault.Invalid},
		{name: "repeated parameter", req: func(h *hub) request {
			r := secretPost("app-secret", h.secrets["app-secret"])
			r.form.Add("scope", "registry.search")
			r.form.Add("scope", "directory.read")
			return r
		}, wantCode: CodeInvalidRequest, wantKind: fault.Invalid, wantMsg: "repeated"},
		{name: "unsupported grant", req: func(h *hub) request {
			return secretPost("app-secret", h.secrets["app-secret"], "grant_type", "password")
		}, wantCode: CodeUnsupportedGrantType, wantKind: fault.Invalid},
		{name: "missing grant", req: func(h *hub) request {
			r := secretPost("app-secret", h.secrets["app-secret"])
			r.form.Del("grant_type")
			return r
		}, wantCode: CodeInvalidRequest, wantKind: fault.Invalid, wantMsg: "grant_type"},
		{name: "unknown scope", req: func(h *hub) request {
			return secretPost("app-secret", h.secrets["app-secret"], "scope", "registry.search registry.delete")
		}, wantCode: CodeInvalidScope, wantKind: fault.Invalid, wantMsg: `"registry.delete"`},

		// private_key_jwt
		{name: "assertion Ed25519", req: func(h *hub) request { return request{form: assertionForm(sign(t, h.ed, jose.EdDSA, h.claims()))} },
			wantScope: allScopes},
		{name: "assertion RS256", req: func(h *hub) request { return request{form: assertionForm(sign(t, h.rsa, jose.RS256, h.claims()))} },
			wantScope: allScopes},
		{name: "assertion PS256 with client_id and scope", req: func(h *hub) request {
			r := request{form: assertionForm(sign(t, h.rsa, jose.PS256, h.claims()))}
			r.form.Set("client_id", "app-jwt")
			r.form.Set("scope", "registry.subscribe")
			return r
		}, wantScope: "registry.subscribe"},
		{name: "assertion without kid", req: func(h *hub) request {
			return request{form: assertionForm(sign(t, clientKey{priv: h.rsa.priv}, jose.RS256, h.claims()))}
		}, wantScope: allScopes},
		{name: "assertion aud is the issuer, in a list", req: func(h *hub) request {
			return request{form: assertionForm(sign(t, h.ed, jose.EdDSA, withClaims(h, func(c map[string]any) { c["aud"] = []string{"x", issuer + "/"} })))}
		}, wantScope: allScopes},
		{name: "assertion without iat", req: func(h *hub) request {
			return request{form: assertionForm(sign(t, h.ed, jose.EdDSA, withClaims(h, func(c map[string]any) { delete(c, "iat") })))}
		}, wantScope: allScopes},
		{name: "assertion wrong aud", req: func(h *hub) request {
			return request{form: assertionForm(sign(t, h.ed, jose.EdDSA, withClaims(h, func(c map[string]any) { c["aud"] = "https://other.example/token" })))}
		}, wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "aud must contain " + issuer + TokenPath},
		{name: "assertion expired", req: func(h *hub) request {
			return request{form: assertionForm(sign(t, h.ed, jose.EdDSA, withClaims(h, func(c map[string]any) {
				c["iat"], c["exp"] = t0.Add(-3*time.Minute).Unix(), t0.Add(-time.Second).Unix()
			})))}
		}, wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "expired"},
		{name: "assertion exp too far after iat", req: func(h *hub) request {
			return request{form: assertionForm(sign(t, h.ed, jose.EdDSA, withClaims(h, func(c map[string]any) { c["exp"] = t0.Add(5*time.Minute + time.Second).Unix() })))}
		}, wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "at most 5 minutes"},
		{name: "assertion exp too far, no iat", req: func(h *hub) request {
			return request{form: assertionForm(sign(t, h.ed, jose.EdDSA, withClaims(h, func(c map[string]any) {
				delete(c, "iat")
				c["exp"] = t0.Add(6 * time.Minute).Unix()
			})))}
		}, wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "at most 5 minutes"},
		{name: "assertion without exp", req: func(h *hub) request {
			return request{form: assertionForm(sign(t, h.ed, jose.EdDSA, withClaims(h, func(c map[string]any) { delete(c, "exp") })))}
		}, wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "no exp"},
		{name: "assertion without jti", req: func(h *hub) request {
			return request{form: assertionForm(sign(t, h.ed, jose.EdDSA, withClaims(h, func(c map[string]any) { delete(c, "jti") })))}
		}, wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "jti"},
		{name: "assertion sub differs from iss", req: func(h *hub) request {
			return request{form: assertionForm(sign(t, h.ed, jose.EdDSA, withClaims(h, func(c map[string]any) { c["sub"] = "app-secret" })))}
		}, wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "iss and sub"},
		{name: "assertion client_id differs from iss", req: func(h *hub) request {
			r := request{form: assertionForm(sign(t, h.ed, jose.EdDSA, h.claims()))}
			r.form.Set("client_id", "app-secret")
			return r
		}, wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "client_id differs"},
		{name: "assertion signed by an unregistered key with a registered kid", req: func(h *hub) request {
			return request{form: assertionForm(sign(t, h.stray, jose.EdDSA, h.claims()))}
		}, wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "not signed by a key registered"},
		{name: "assertion of an unknown client", req: func(h *hub) request {
			return request{form: assertionForm(sign(t, h.ed, jose.EdDSA, withClaims(h, func(c map[string]any) { c["iss"], c["sub"] = "app-nobody", "app-nobody" })))}
		}, wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "not signed by a key registered"},
		{name: "assertion alg none", req: func(h *hub) request {
			return request{form: assertionForm(unsigned(t, map[string]any{"alg": "none"}, h.claims(), nil))}
		}, wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "EdDSA, RS256 or PS256"},
		{name: "assertion HS256 keyed with the public key", req: func(h *hub) request {
			k := clientKey{kid: "ed-1", priv: []byte(h.ed.pub.(ed25519.PublicKey))}
			return request{form: assertionForm(sign(t, k, jose.HS256, h.claims()))}
		}, wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "EdDSA, RS256 or PS256"},
		{name: "assertion RSA key used with EdDSA header", req: func(h *hub) request {
			return request{form: assertionForm(unsigned(t, map[string]any{"alg": "EdDSA", "kid": "rsa-1"}, h.claims(), make([]byte, 64)))}
		}, wantCode: CodeInvalidClient, wantKind: fault.Unauthorized, wantMsg: "not signed by a key registered"},
		{name: "assertion garbage", req: func(h *hub) request { return request{form: assertionForm("not-a-jwt")} },
			wantCode: CodeInvalidClient, wantKind: fault.Unauthorized},
		{name: "assertion wrong type", req: func(h *hub) request {
			r := request{form: assertionForm(sign(t, h.ed, jose.EdDSA, h.claims()))}
			r.form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
			return r
		}, wantCode: CodeInvalidRequest, wantKind: fault.Invalid, wantMsg: "client_assertion_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req(h)
			resp, err := h.srv.Token(context.Background(), r.form, r.user, r.pass, "")
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("Token = %v; want success", err)
				}
				checkResponse(t, h, resp, tc.wantScope)
				return
			}
			if err == nil {
				t.Fatalf("Token succeeded; want %s", tc.wantCode)
			}
			fe := faultOf(err)
			if got := ErrorCode(err); got != tc.wantCode || fe == nil || fe.Kind != tc.wantKind {
				t.Fatalf("Token = %v (code %s, fault %v); want code %s kind %v", err, got, fe, tc.wantCode, tc.wantKind)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Token error %q; want it to mention %q", err, tc.wantMsg)
			}
			checkNoLeak(t, h, err, r)
		})
	}
}

func checkResponse(t *testing.T, h *hub, resp TokenResponse, wantScope string) {
	t.Helper()
	if resp.TokenType != "Bearer" || resp.ExpiresIn != 300 || resp.Scope != wantScope {
		t.Errorf("Token = {type %q, expires_in %d, scope %q}; want {Bearer, 300, %q}", resp.TokenType, resp.ExpiresIn, resp.Scope, wantScope)
	}
	c, err := h.srv.Verify(context.Background(), resp.AccessToken)
	if err != nil {
		t.Fatalf("Verify(issued token) = %v", err)
	}
	if c.Institution != "PENSION-FUND" || strings.Join(c.Scopes, " ") != wantScope || !c.Expires.Equal(h.clock.Now().Add(5*time.Minute)) {
		t.Errorf("Verify(issued token) = %+v", c)
	}
}

// checkNoLeak fails if the error repeats a secret or an assertion.
func checkNoLeak(t *testing.T, h *hub, err error, r request) {
	t.Helper()
	msg := err.Error()
	secrets := []string{r.pass, r.form.Get("client_secret"), r.form.Get("client_assertion")}
	for _, s := range h.secrets {
		secrets = append(secrets, s)
	}
	for _, s := range secrets {
		if len(s) >= 8 && strings.Contains(msg, s) {
			t.Errorf("error %q repeats a secret", msg)
		}
	}
}

func TestAssertionReplay(t *testing.T) {
	h := newHub(t)
	ctx := context.Background()
	a := sign(t, h.ed, jose.EdDSA, h.claims())
	if _, err := h.srv.Token(ctx, assertionForm(a), "", "", ""); err != nil {
		t.Fatalf("first Token = %v", err)
	}
	h.clock.Advance(time.Minute)
	_, err := h.srv.Token(ctx, assertionForm(a), "", "", "")
	if ErrorCode(err) != CodeInvalidClient || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("replayed Token = %v; want invalid_client, already used", err)
	}
	// A new assertion that reuses the jti is refused too, with another key.
	c := h.claims()
	c["jti"] = "jti-1"
	if _, err := h.srv.Token(ctx, assertionForm(sign(t, h.rsa, jose.RS256, c)), "", "", ""); ErrorCode(err) != CodeInvalidClient {
		t.Fatalf("Token with a used jti = %v; want invalid_client", err)
	}
}

// TestAssertionReplayAcrossReplicas uses an assertion at one replica of the hub and
// replays it at another: the jti they share (Config.UsedOnce) refuses it.
func TestAssertionReplayAcrossReplicas(t *testing.T) {
	h := newHub(t)
	ctx := context.Background()
	var replicas [2]*Server
	for i := range replicas {
		srv, err := NewServer(Config{Issuer: issuer, Directory: h.dir, Keys: h.keys, Now: h.clock.Now, UsedOnce: h.db.Claims()})
		must(t, err)
		replicas[i] = srv
	}
	a := sign(t, h.ed, jose.EdDSA, h.claims())
	if _, err := replicas[0].Token(ctx, assertionForm(a), "", "", ""); err != nil {
		t.Fatalf("Token at the first replica = %v", err)
	}
	h.clock.Advance(time.Second)
	_, err := replicas[1].Token(ctx, assertionForm(a), "", "", "")
	if ErrorCode(err) != CodeInvalidClient || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("the same assertion at the second replica: Token = %v; want invalid_client, already used", err)
	}
	if _, err := replicas[1].Token(ctx, assertionForm(sign(t, h.ed, jose.EdDSA, h.claims())), "", "", ""); err != nil {
		t.Fatalf("a new assertion at the second replica: Token = %v", err)
	}
}

func TestReplayCacheBounded(t *testing.T) {
	c := newReplayCache(2)
	exp := t0.Add(time.Minute)
	for _, jti := range []string{"a", "b"} {
		must(t, c.use("app", jti, exp, t0))
	}
	if err := c.use("app", "c", exp, t0); fault.KindOf(err) != fault.Unavailable {
		t.Fatalf("use on a full cache = %v; want Unavailable", err)
	}
	if err := c.use("app", "c", exp, exp); err != nil {
		t.Fatalf("use once the entries expired = %v; want nil", err)
	}
}

func TestRejectedAssertionDoesNotSpendJTI(t *testing.T) {
	h := newHub(t)
	ctx := context.Background()
	a := sign(t, h.ed, jose.EdDSA, h.claims())
	f := assertionForm(a)
	f.Set("scope", "registry.everything")
	if _, err := h.srv.Token(ctx, f, "", "", ""); ErrorCode(err) != CodeInvalidScope {
		t.Fatalf("Token with a bad scope = %v; want invalid_scope", err)
	}
	if _, err := h.srv.Token(ctx, assertionForm(a), "", "", ""); err != nil {
		t.Fatalf("Token after a refused request = %v; want success", err)
	}
}
