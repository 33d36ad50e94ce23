package oauth

import (
	"context"
	mrand "math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// FuzzVerify: no input panics, and nothing verifies but the tokens the hub issued.
func FuzzVerify(f *testing.F) {
	h := newHub(f)
	valid := []string{h.issue(f, ""), h.issue(f, "registry.search directory.read")}
	for _, tok := range valid {
		f.Add(tok)
		f.Add(tok[:len(tok)-1])
		f.Add(strings.Replace(tok, ".", "..", 1))
	}
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := h.srv.Verify(context.Background(), tok)
		if slices.Contains(valid, tok) {
			if err != nil {
				t.Fatalf("Verify(issued token) = %v", err)
			}
			return
		}
		if err == nil {
			t.Fatalf("Verify(%q) = %+v; want an error", tok, c)
		}
		if fault.KindOf(err) != fault.Unauthorized || ErrorCode(err) != CodeInvalidToken {
			t.Fatalf("Verify(%q) = %v (kind %v, code %s); want unauthorized, invalid_token", tok, err, fault.KindOf(err), ErrorCode(err))
		}
	})
}

// FuzzToken: no form panics; a token is issued only for the real secret or a genuine
// assertion; every refusal carries an OAuth code and repeats no secret.
func FuzzToken(f *testing.F) {
	h := newHub(f)
	// The test clock stands still, so the limit on failed authentications would never
	// refill: after ten failures of a client every input would end in "too many" and the
	// engine would explore nothing else. The limit has tests of its own (guesses_test.go).
	srv, err := NewServer(Config{Issuer: issuer, Directory: h.dir, Keys: h.keys, Now: h.clock.Now,
		Rand: mrand.NewChaCha8([32]byte{2}), Guesses: GuessLimits{PerClient: 1 << 30, PerAddress: 1 << 30}})
	must(f, err)
	h.srv = srv
	secret := h.secrets["app-secret"]
	assertions := []string{sign(f, h.ed, jose.EdDSA, h.claims()), sign(f, h.rsa, jose.RS256, h.claims())}
	f.Add("client_credentials", "", "app-secret", secret, "", "", "", "")
	f.Add("client_credentials", "directory.read", "", "", "", "", "app-secret", secret)
	f.Add("client_credentials", "registry.search", "app-secret", secret+"x", "", "", "", "")
	f.Add("client_credentials", "", "", "", AssertionType, assertions[0], "", "")
	f.Add("client_credentials", "registry.subscribe", "app-jwt", "", AssertionType, assertions[1], "", "")
	f.Add("password", "x y", "app-jwt", "s", AssertionType, "a.b.c", "u%zz", "p")
	// False alarms of the first oracle: the quoted grant_type or scope word shows a
	// secret it does not contain ("\x00000000" quoted contains 00000000).
	f.Add("\x00000000", "", "", "", "", "", "", "00000000")
	f.Add("client_credentials", "\x011111111", "app-secret", "11111111", "", "", "", "")
	f.Fuzz(func(t *testing.T, grant, scope, id, sec, atype, assertion, user, pass string) {
		form := url.Values{}
		for k, v := range map[string]string{"grant_type": grant, "scope": scope, "client_id": id,
			"client_secret": sec, "client_assertion_type": atype, "client_assertion": assertion} {
			if v != "" {
				form.Set(k, v)
			}
		}
		resp, err := h.srv.Token(context.Background(), form, user, pass, "")
		if err == nil {
			basicPass, _ := url.QueryUnescape(pass)
			if sec != secret && basicPass != secret && !slices.Contains(assertions, assertion) {
				t.Fatalf("Token issued %q without the credential", resp.AccessToken)
			}
			return
		}
		switch fault.KindOf(err) {
		case fault.Invalid, fault.Unauthorized, fault.Forbidden:
		default:
			t.Fatalf("Token = %v (kind %v); want a refusal", err, fault.KindOf(err))
		}
		if ErrorCode(err) == "" || ErrorCode(err) == CodeServerError {
			t.Fatalf("Token = %v without an OAuth code", err)
		}
		wording := withoutShown(err.Error(), grant, scope)
		for _, s := range []string{sec, assertion, pass, secret} {
			if len(s) >= 8 && strings.Contains(wording, s) {
				t.Fatalf("Token error %q repeats a secret", err)
			}
		}
	})
}

// withoutShown is msg with the input it may show cut out, leaving the package's own
// wording: Token's errors quote (%q, clipped) the grant_type and an unknown scope word, and
// no other field. Cutting the quoted forms out, rather than asking whether a secret occurs
// in the raw fields, is what makes the oracle exact: the quoted "\x00000000" contains the
// password 00000000 although the raw grant_type does not.
func withoutShown(msg, grant, scope string) string {
	for _, v := range append(strings.Fields(scope), grant) {
		msg = strings.ReplaceAll(msg, strconv.Quote(clip(v)), "\x00")
	}
	return msg
}
