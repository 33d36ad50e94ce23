package outbound

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ClientToken gets an access token from tokenURL with the client-credentials grant,
// the client authenticated by its secret in the form (client_secret_post, which the
// hub's token endpoint takes), for scopes (none: the application's), with c (nil:
// http.DefaultClient) within DefaultTimeout. The hub's own applications and the CLI use
// it; nobody logs the secret.
func ClientToken(ctx context.Context, c *http.Client, tokenURL, id, secret string, scopes ...string) (string, error) {
	cfg := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: tokenURL, Scopes: scopes,
		AuthStyle: oauth2.AuthStyleInParams}
	if c != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, c)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	tok, err := cfg.Token(ctx)
	if re := (*oauth2.RetrieveError)(nil); errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return "", fmt.Errorf("no token: %s %s (status %d)", re.ErrorCode, re.ErrorDescription, status)
	}
	if err != nil {
		return "", fmt.Errorf("no token: %w", err)
	}
	return tok.AccessToken, nil
}
