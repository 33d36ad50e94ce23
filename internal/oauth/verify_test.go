package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// issue returns a fresh access token for app-secret with scope.
func (h *hub) issue(t testing.TB, scope string) string {
	t.Helper()
	r := secretPost("app-secret", h.secrets["app-secret"], "scope", scope)
	resp, err := h.srv.Token(context.Background(), r.form, "", "", "")
	must(t, err)
	return resp.AccessToken
}

// accessClaimsMap are the claims of a good token, to be spoiled one at a time.
func accessClaimsMap(now time.Time) map[string]any {
	return map[string]any{"iss": issuer, "sub": "app-secret", "aud": Audience, "iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(), "jti": "j1", "client_id": "app-secret",
		"institution": "PENSION-FUND", "scope": "registry.search"}
}

// mint signs claims with ks under typ.
func mint(t testing.TB, ks *KeySet, typ string, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	must(t, err)
	tok, err := ks.SignJWS(typ, b)
	must(t, err)
	return tok
}

func spoil(change func(map[string]any)) map[string]any {
	c := accessClaimsMap(t0)
	change(c)
	return c
}

func TestVerify(t *testing.T) {
	for _, cached := range []bool{true, false} {
		name := map[bool]string{true: "cached", false: "uncached"}[cached]
		t.Run(name, func(t *testing.T) { testVerify(t, cached) })
	}
}

func testVerify(t *testing.T, cached bool) {
	h := newHub(t)
	h.srv.noCache = !cached
	other := NewKeySet(h.clock.Now)
	_, err := other.Generate()
	must(t, err)
	e := base64.RawURLEncoding
	tests := []struct {
		name    string
		token   func() string
		advance time.Duration
		wantMsg string // "" for success
	}{
		{"issued token", func() string { return h.issue(t, "registry.search directory.read") }, 0, ""},
		{"issued token, 1 s before expiry", func() string { return h.issue(t, "") }, 5*time.Minute - time.Second, ""},
		{"expired", func() string { return h.issue(t, "") }, 5 * time.Minute, "token expired"},
		{"wrong audience", func() string {
			return mint(t, h.keys, TokenType, spoil(func(c map[string]any) { c["aud"] = "elsewhere" }))
		}, 0, "token audience wrong"},
		{"audience as a list", func() string {
			return mint(t, h.keys, TokenType, spoil(func(c map[string]any) { c["aud"] = []string{Audience} }))
		}, 0, "token malformed"},
		{"wrong issuer", func() string {
			return mint(t, h.keys, TokenType, spoil(func(c map[string]any) { c["iss"] = "https://evil.example" }))
		}, 0, "token issuer wrong"},
		{"issued in the future", func() string {
			return mint(t, h.keys, TokenType, spoil(func(c map[string]any) { c["iat"] = t0.Add(31 * time.Second).Unix() }))
		}, 0, "token issued in the future"},
		{"iat within the clock skew", func() string {
			return mint(t, h.keys, TokenType, spoil(func(c map[string]any) { c["iat"] = t0.Add(30 * time.Second).Unix() }))
		}, 0, ""},
		{"not an access token", func() string { return mint(t, h.keys, "checkpoint+jws", accessClaimsMap(t0)) }, 0, "not an access token"},
		{"signed by another key set", func() string { return mint(t, other, TokenType, accessClaimsMap(t0)) }, 0, "token signed by an unknown key"},
		{"forged with the hub's kid", func() string {
			good := mint(t, h.keys, TokenType, accessClaimsMap(t0))
			forged := mint(t, other, TokenType, accessClaimsMap(t0))
			return good[:strings.LastIndex(good, ".")] + forged[strings.LastIndex(forged, "."):]
		}, 0, "token signature invalid"},
		{"tampered payload", func() string {
			parts := strings.Split(h.issue(t, ""), ".")
			var c map[string]any
			b, _ := e.DecodeString(parts[1])
			must(t, json.Unmarshal(b, &c))
			c["scope"] = "registry.search directory.read"
			b, _ = json.Marshal(c)
			return parts[0] + "." + e.EncodeToString(b) + "." + parts[2]
		}, 0, "token signature invalid"},
		{"alg none", func() string {
			parts := strings.Split(h.issue(t, ""), ".")
			hb, _ := json.Marshal(Header{Alg: "none", KeyID: h.keys.Keys()[0].ID, Type: TokenType})
			return e.EncodeToString(hb) + "." + parts[1] + "."
		}, 0, "algorithm not accepted"},
		{"extra header field", func() string {
			parts := strings.Split(h.issue(t, ""), ".")
			hb, _ := json.Marshal(map[string]string{"alg": "EdDSA", "kid": h.keys.Keys()[0].ID, "typ": TokenType, "crit": "b64"})
			return e.EncodeToString(hb) + "." + parts[1] + "." + parts[2]
		}, 0, "token malformed"},
		{"padded signature", func() string { return h.issue(t, "") + "==" }, 0, "token signature invalid"},
		{"two parts", func() string { return "abc.def" }, 0, "token malformed"},
		{"four parts", func() string { return h.issue(t, "") + ".x" }, 0, "token malformed"},
		{"empty", func() string { return "" }, 0, "token missing"},
		{"unknown application", func() string {
			return mint(t, h.keys, TokenType, spoil(func(c map[string]any) { c["sub"], c["client_id"] = "app-gone", "app-gone" }))
		}, 0, "no longer exists"},
		{"sub differs from client_id", func() string {
			return mint(t, h.keys, TokenType, spoil(func(c map[string]any) { c["sub"] = "app-jwt" }))
		}, 0, "token malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.clock.Set(t0)
			tok := tc.token()
			if tc.wantMsg != "" && strings.HasPrefix(tc.name, "expired") {
				// Verified once while valid, so that the cached path is the one refusing.
				if _, err := h.srv.Verify(context.Background(), tok); err != nil {
					t.Fatalf("Verify before expiry = %v", err)
				}
			}
			h.clock.Advance(tc.advance)
			c, err := h.srv.Verify(context.Background(), tok)
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatalf("Verify = %v; want success", err)
				}
				if c.ClientID != "app-secret" || c.Institution != "PENSION-FUND" || !c.HasScope(ScopeRegistrySearch) || c.ID == "" {
					t.Errorf("Verify = %+v", c)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("Verify = %+v, %v; want %q", c, err, tc.wantMsg)
			}
			if fault.KindOf(err) != fault.Unauthorized || ErrorCode(err) != CodeInvalidToken {
				t.Errorf("Verify error kind %v code %s; want unauthorized, invalid_token", fault.KindOf(err), ErrorCode(err))
			}
		})
	}
}

func TestVerifyAcrossRotation(t *testing.T) {
	for _, cached := range []bool{true, false} {
		h := newHub(t)
		h.srv.noCache = !cached
		ctx := context.Background()
		old := h.issue(t, "")
		if _, err := h.srv.Verify(ctx, old); err != nil {
			t.Fatalf("Verify(old) = %v", err)
		}
		newKid, err := h.keys.Rotate(time.Minute)
		must(t, err)
		fresh := h.issue(t, "")
		if _, hdr, _ := h.keys.VerifyJWS(fresh); hdr.KeyID != newKid {
			t.Fatalf("token after rotation signed by %q; want %q", hdr.KeyID, newKid)
		}
		if n := len(h.keys.PublicJWKS().Keys); n != 2 {
			t.Errorf("JWKS during the overlap has %d keys; want 2", n)
		}
		h.clock.Advance(59 * time.Second)
		for _, tok := range []string{old, fresh} {
			if _, err := h.srv.Verify(ctx, tok); err != nil {
				t.Errorf("cached=%v: Verify before retirement = %v", cached, err)
			}
		}
		h.clock.Advance(time.Second)
		if _, err := h.srv.Verify(ctx, old); err == nil || !strings.Contains(err.Error(), "unknown key") {
			t.Errorf("cached=%v: Verify(old) after retirement = %v; want unknown key", cached, err)
		}
		if _, err := h.srv.Verify(ctx, fresh); err != nil {
			t.Errorf("cached=%v: Verify(fresh) after retirement = %v", cached, err)
		}
		if jwks := h.keys.PublicJWKS(); len(jwks.Keys) != 1 || jwks.Keys[0].KeyID != newKid {
			t.Errorf("JWKS after retirement = %+v; want only %s", jwks.Keys, newKid)
		}
	}
}

func TestVerifyRefusesSuspendedApplication(t *testing.T) {
	h := newHub(t)
	ctx := context.Background()
	tok := h.issue(t, "")
	if _, err := h.srv.Verify(ctx, tok); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	h.setStatus(t, "app-secret", directory.StatusSuspended)
	// The status is trusted for StatusTTL (5 s): that delay is the price of no store
	// read per request.
	h.clock.Advance(4 * time.Second)
	if _, err := h.srv.Verify(ctx, tok); err != nil {
		t.Fatalf("Verify within the status TTL = %v; want success", err)
	}
	h.clock.Advance(time.Second)
	if _, err := h.srv.Verify(ctx, tok); err == nil || !strings.Contains(err.Error(), "suspended") {
		t.Fatalf("Verify after suspension = %v; want suspended", err)
	}
	h.setStatus(t, "app-secret", directory.StatusActive)
	h.clock.Advance(5 * time.Second)
	if _, err := h.srv.Verify(ctx, tok); err != nil {
		t.Fatalf("Verify after reactivation = %v", err)
	}
}

func TestVerifyReturnsACopy(t *testing.T) {
	h := newHub(t)
	tok := h.issue(t, "registry.search directory.read")
	c, err := h.srv.Verify(context.Background(), tok)
	must(t, err)
	c.Scopes[0] = "registry.everything"
	c, err = h.srv.Verify(context.Background(), tok)
	must(t, err)
	if c.Scopes[0] != ScopeRegistrySearch {
		t.Errorf("cached claims changed by a caller: %v", c.Scopes)
	}
}

func TestTokenCacheBounded(t *testing.T) {
	c := newTokenCache(2)
	live := tokenEntry{claims: Claims{Expires: t0.Add(time.Minute)}}
	for i := byte(0); i < 5; i++ {
		c.put([32]byte{i}, live, t0)
		if len(c.m) > 2 {
			t.Fatalf("cache holds %d entries; want at most 2", len(c.m))
		}
	}
	if _, ok := c.get([32]byte{4}); !ok {
		t.Error("the last entry put is missing")
	}
}
