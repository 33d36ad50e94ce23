package devidp

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzAuthenticate feeds the token endpoint's client authentication any assertion: it
// must never panic, and never accept one the client's key did not sign.
func FuzzAuthenticate(f *testing.F) {
	r := newRig(f)
	good := r.assertion(f, r.key, r.srv.URL+"/devidp/token", "seed")
	f.Add(good)
	f.Add(good[:len(good)-3] + "AAA")
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJycCJ9.")
	f.Add(strings.Repeat("a.", 3))
	idp := func() *IdP {
		p, err := New(Config{Issuer: r.srv.URL + "/devidp", Persons: people{}, Now: time.Now,
			Clients: []Client{{ID: "rp", RedirectURIs: []string{redirect}, Key: r.key.Public()}}})
		if err != nil {
			f.Fatal(err)
		}
		return p
	}()
	f.Fuzz(func(t *testing.T, assertion string) {
		form := url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
		client, err := idp.authenticate(form)
		if err == nil && assertion != good {
			t.Fatalf("authenticate accepted %q as %s", assertion, client)
		}
	})
}
