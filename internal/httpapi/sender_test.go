package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The hub's sending client checks the address it connects to, after the name is
// resolved: a name that resolves to loopback is allowed (the demo posts to itself), a
// link-local address (the cloud metadata service) is refused before connecting.
func TestSenderClientChecksTheAddressItDials(t *testing.T) {
	for name, c := range map[string]*http.Client{"sender": NewSenderClient(), "source": NewSourceClient()} {
		t.Run(name, func(t *testing.T) { checksTheAddressItDials(t, c) })
	}
}

func checksTheAddressItDials(t *testing.T, c *http.Client) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/away" {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tt := range []struct {
		url     string
		refused bool
	}{
		{"http://localhost:" + u.Port() + "/", false},
		{"http://169.254.169.254/latest/meta-data/", true},
		{"http://[fd00:ec2::254]/", true},
		{"http://100.100.100.200/", true},
		{"http://localhost:" + u.Port() + "/away", false}, // the redirect is not followed
	} {
		req, _ := http.NewRequestWithContext(ctx, "GET", tt.url, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		if refused := err != nil && strings.Contains(err.Error(), "refused to connect"); refused != tt.refused {
			t.Errorf("GET %s: %v; want refused %v", tt.url, err, tt.refused)
		}
	}
}
