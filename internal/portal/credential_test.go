package portal

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/oauth"
)

func keySet(t testing.TB, now time.Time) *oauth.KeySet {
	ks := oauth.NewKeySet(func() time.Time { return now })
	if _, err := ks.Generate(); err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestCredentialRoundTrip(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	ks := keySet(t, now)
	c := newCredential("https://hub.example", "urn:uuid:1", "Michel Henry", "programme:old-age-pension", "2026-12-07", now)
	tok, err := signCredential(ks, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) > 1024 {
		t.Errorf("credential is %d bytes; want at most 1 KiB (a QR code an ordinary phone reads)", len(tok))
	}
	got, err := VerifyCredential(tok, ks.PublicJWKS(), "https://hub.example", now.Add(time.Hour))
	if err != nil {
		t.Fatalf("VerifyCredential = %v", err)
	}
	if got.VC.Subject != c.VC.Subject {
		t.Errorf("subject = %+v; want %+v", got.VC.Subject, c.VC.Subject)
	}
	for _, tc := range []struct {
		name, token, issuer string
		at                  time.Time
		want                string
		why                 error  // errors.Is
		key                 string // the message the verifier reads
	}{
		{"expired", tok, "", now.Add(credentialLife), "expired", ErrExpired, "error.cred.expired"},
		{"not yet", tok, "", now.Add(-time.Hour), "not valid yet", ErrNotYet, "error.cred.notyet"},
		{"other issuer", tok, "https://other.example", now, "issued by", ErrIssuer, "error.cred.issuer"},
		{"payload changed", forge(t, tok, "Michel Henry", "Someone Else"), "", now, "signature invalid", ErrSignature, "error.cred.signature"},
		{"status changed", forge(t, tok, "old-age-pension", "child-benefit"), "", now, "signature invalid", ErrSignature, "error.cred.signature"},
		{"signature cut", tok[:strings.LastIndexByte(tok, '.')+1], "", now, "signature invalid", ErrSignature, "error.cred.signature"},
		{"other key, same kid", resign(t, tok), "", now, "signature invalid", ErrSignature, "error.cred.signature"},
		{"alg none", "eyJhbGciOiJub25lIiwia2lkIjoieCIsInR5cCI6InZjK2p3dCJ9." + strings.Split(tok, ".")[1] + ".", "", now, "alg", ErrSignature, "error.cred.signature"},
		{"not a JWS", "hello", "", now, "compact", ErrNotCredential, "error.cred.malformed"},
		{"too long", strings.Repeat("a", MaxCredential+1), "", now, "too long", ErrNotCredential, "error.cred.malformed"},
	} {
		_, err := VerifyCredential(tc.token, ks.PublicJWKS(), tc.issuer, tc.at)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.why) {
			t.Errorf("%s: VerifyCredential = %v; want %v, with %q", tc.name, err, tc.why, tc.want)
		}
		if got := credentialReason(err); got != tc.key {
			t.Errorf("%s: the verifier reads %s; want %s", tc.name, got, tc.key)
		}
	}
	other := keySet(t, now)
	if _, err := VerifyCredential(tok, other.PublicJWKS(), "", now); err == nil {
		t.Error("a credential verified with another hub's keys")
	}
}

// forge replaces old with new in the payload, keeping header and signature.
func forge(t testing.TB, tok, old, new string) string {
	parts := strings.Split(tok, ".")
	raw, err := b64.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	parts[1] = b64.EncodeToString([]byte(strings.ReplaceAll(string(raw), old, new)))
	return strings.Join(parts, ".")
}

// resign signs tok's header and payload with a key of the attacker's.
func resign(t *testing.T, tok string) string {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	i := strings.LastIndexByte(tok, '.')
	return tok[:i+1] + b64.EncodeToString(ed25519.Sign(priv, []byte(tok[:i])))
}

func TestNormalizeCode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"RFC7V-D6958", "RFC7V-D6958"},
		{"rfc7v d6958", "RFC7V-D6958"},
		{"oo1il-00000", "00111-00000"},
		{"RFC7VD695", ""},
		{"RFC7V-D6958U", ""},
		{"RFC7V-D695U", ""},
		{"", ""},
		{strings.Repeat("A", 41), ""},
	} {
		if got := NormalizeCode(tc.in); got != tc.want {
			t.Errorf("NormalizeCode(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
	seen := map[string]bool{}
	for range 1000 {
		c := newCode()
		if NormalizeCode(c) != c || seen[c] {
			t.Fatalf("newCode() = %q: not normal or repeated", c)
		}
		seen[c] = true
	}
}

func TestFromAcceptLanguage(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "en"},
		{"fr-BE,fr;q=0.9,en;q=0.8", "fr"},
		{"en-GB,fr;q=0.5", "en"},
		{"de,fr;q=0.3", "fr"},
		{"de", "en"},
		{"fr;q=0", "en"},
		{"en;q=0.2,fr;q=0.7", "fr"},
	} {
		if got := FromAcceptLanguage(tc.in); got != tc.want {
			t.Errorf("FromAcceptLanguage(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestMessagesComplete(t *testing.T) {
	for key := range messages["en"] {
		if _, ok := messages["fr"][key]; !ok {
			t.Errorf("message %q has no French", key)
		}
	}
	for key := range messages["fr"] {
		if _, ok := messages["en"][key]; !ok {
			t.Errorf("message %q has no English", key)
		}
	}
}

func FuzzVerifyCredential(f *testing.F) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	ks := keySet(f, now)
	tok, err := signCredential(ks, newCredential("https://hub.example", "urn:uuid:1", "A B", "disabled", "2026-12-07", now))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add(forge(f, tok, "A B", "C D"))
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIiwia2lkIjoieCIsInR5cCI6InZjK2p3dCJ9." + strings.Split(tok, ".")[1] + ".")
	f.Add("")
	jwks := ks.PublicJWKS()
	f.Fuzz(func(t *testing.T, s string) {
		c, err := VerifyCredential(s, jwks, "", now)
		if err != nil {
			// Every refusal is one of the reasons the verifier's page words.
			if !errors.Is(err, ErrNotCredential) && !errors.Is(err, ErrSignature) && !errors.Is(err, ErrIssuer) &&
				!errors.Is(err, ErrExpired) && !errors.Is(err, ErrNotYet) {
				t.Fatalf("VerifyCredential(%q) = %v: no reason the page can say", s, err)
			}
			return
		}
		// Whatever verifies was signed by the hub: its payload is one the hub wrote.
		payload, _ := json.Marshal(c)
		if c.VC.Subject.Status == "" || len(payload) == 0 {
			t.Fatalf("VerifyCredential(%q) accepted %+v", s, c)
		}
		if strings.TrimSpace(s) != tok {
			t.Fatalf("VerifyCredential accepted %q, not the credential the hub signed", s)
		}
	})
}

func FuzzNormalizeCode(f *testing.F) {
	f.Add("RFC7V-D6958")
	f.Add("oo1il 00000")
	f.Fuzz(func(t *testing.T, s string) {
		c := NormalizeCode(s)
		if c != "" && (len(c) != codeLen+1 || NormalizeCode(c) != c) {
			t.Fatalf("NormalizeCode(%q) = %q: not a normal code", s, c)
		}
	})
}

func FuzzFromAcceptLanguage(f *testing.F) {
	f.Add("fr-BE,fr;q=0.9,en;q=0.8")
	f.Fuzz(func(t *testing.T, s string) {
		if l := FromAcceptLanguage(s); !known(l) {
			t.Fatalf("FromAcceptLanguage(%q) = %q", s, l)
		}
	})
}

// BenchmarkVerifyCredential is the offline verification the issue bounds at 1 ms.
func BenchmarkVerifyCredential(b *testing.B) {
	now := time.Now()
	ks := keySet(b, now)
	tok, err := signCredential(ks, newCredential("https://hub.example", "urn:uuid:1", "Michel Henry", "programme:old-age-pension", "2026-12-07", now))
	if err != nil {
		b.Fatal(err)
	}
	jwks := ks.PublicJWKS()
	b.ReportMetric(float64(len(tok)), "bytes")
	for b.Loop() {
		if _, err := VerifyCredential(tok, jwks, "https://hub.example", now); err != nil {
			b.Fatal(err)
		}
	}
}

// Every text a template asks for exists in both languages.
func TestTemplatesTranslated(t *testing.T) {
	uses := regexp.MustCompile(`\{\{t "([^"]+)"\}\}`)
	files, err := templateFS.ReadDir("templates")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, f := range files {
		b, err := templateFS.ReadFile("templates/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range uses.FindAllSubmatch(b, -1) {
			keys[string(m[1])] = true
		}
	}
	if len(keys) < 50 {
		t.Fatalf("only %d texts found in the templates", len(keys))
	}
	for key := range keys {
		for _, lang := range langs {
			if _, ok := messages[lang][key]; !ok {
				t.Errorf("template text %q has no %s", key, lang)
			}
		}
	}
	for _, key := range []string{"status.vulnerable", "status.disabled", "status.programme", "status.past", "error.notfound", "error.login",
		"error.csrf", "error.limit", "error.badcode", "error.date", "error.unavailable", "proof.none", "error.code.expired", "error.empty", "error.crosssite", "error.params",
		"error.cred.malformed", "error.cred.signature", "error.cred.issuer", "error.cred.expired", "error.cred.notyet"} {
		for _, lang := range langs {
			if _, ok := messages[lang][key]; !ok {
				t.Errorf("text %q used by the code has no %s", key, lang)
			}
		}
	}
}
