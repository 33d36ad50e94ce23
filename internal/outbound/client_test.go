package outbound_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/outbound"
)

// TestClientToken: the grant goes as the hub's token endpoint takes it (client
// credentials, the secret in the form, scopes joined), and a refusal reads as the
// endpoint's error, without the secret.
func TestClientToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != "app" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_request"}`))
			return
		}
		if _, _, basic := r.BasicAuth(); basic || r.PostForm.Get("client_secret") != "crc.good" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"client authentication failed"}`))
			return
		}
		_, _ = w.Write([]byte(`{"access_token":"at-` + r.PostForm.Get("scope") + `","token_type":"Bearer","expires_in":300}`))
	}))
	defer srv.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		scopes []string
		want   string
	}{{nil, "at-"}, {[]string{"registry.search"}, "at-registry.search"}, {[]string{"a", "b"}, "at-a b"}} {
		if got, err := outbound.ClientToken(ctx, nil, srv.URL, "app", "crc.good", tc.scopes...); err != nil || got != tc.want {
			t.Errorf("ClientToken(scopes %q) = %q, %v; want %q", tc.scopes, got, err, tc.want)
		}
	}
	_, err := outbound.ClientToken(ctx, srv.Client(), srv.URL, "app", "crc.wrong")
	if err == nil || !strings.Contains(err.Error(), "invalid_client client authentication failed (status 401)") || strings.Contains(err.Error(), "crc.wrong") {
		t.Errorf("ClientToken(wrong secret) = %v; want the endpoint's invalid_client, status 401, without the secret", err)
	}
}
