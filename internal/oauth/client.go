package oauth

import (
	"context"
	"net/url"
	"slices"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// AssertionType is the client_assertion_type of private_key_jwt (RFC 7523 §2.2).
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// authenticate finds which client authentication the request uses (exactly one, as
// RFC 6749 §2.3 demands) and returns the authenticated, active application.
func (s *Server) authenticate(ctx context.Context, form url.Values, basicUser, basicPass string, now time.Time) (directory.Application, error) {
	basic := basicUser != "" || basicPass != ""
	post := form.Get("client_secret") != ""
	jwt := form.Get("client_assertion") != "" || form.Get("client_assertion_type") != ""
	n := 0
	for _, used := range []bool{basic, post, jwt} {
		if used {
			n++
		}
	}
	switch {
	case n == 0:
		return directory.Application{}, badClient(nil, "client authentication required: client_secret (form or HTTP Basic) or client_assertion")
	case n > 1:
		return directory.Application{}, badRequest("", "use exactly one client authentication method")
	case jwt:
		return s.authenticateAssertion(ctx, form, now)
	}
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if basic {
		var err error
		if id, secret, err = decodeBasic(basicUser, basicPass); err != nil {
			return directory.Application{}, err
		}
		if fid := form.Get("client_id"); fid != "" && fid != id {
			return directory.Application{}, badRequest("client_id", "differs from the HTTP Basic user")
		}
	}
	return s.authenticateSecret(ctx, id, secret)
}

// decodeBasic undoes the form-encoding RFC 6749 §2.3.1 applies inside HTTP Basic.
func decodeBasic(user, pass string) (string, string, error) {
	u, err1 := url.QueryUnescape(user)
	p, err2 := url.QueryUnescape(pass)
	if err1 != nil || err2 != nil {
		return "", "", badRequest("authorization", "HTTP Basic credentials are not form-encoded correctly")
	}
	return u, p, nil
}

func (s *Server) authenticateSecret(ctx context.Context, id, secret string) (directory.Application, error) {
	if id == "" {
		return directory.Application{}, badRequest("client_id", "is required")
	}
	if secret == "" {
		return directory.Application{}, badClient(nil, "client_secret is empty")
	}
	// One message for an unknown client and a wrong secret, so that the answer does not
	// tell which application ids exist.
	const failed = "client authentication failed: unknown client or wrong secret"
	if err := s.dir.CheckClientSecret(ctx, id, secret); err != nil {
		if fault.KindOf(err) == fault.Unauthorized {
			return directory.Application{}, badClient(err, failed)
		}
		return directory.Application{}, err
	}
	app, err := s.application(ctx, id)
	if err != nil {
		return directory.Application{}, err
	}
	if app.ID == "" {
		return directory.Application{}, badClient(nil, failed)
	}
	return app, admit(app, directory.AuthClientSecret)
}

// application reads an application; a missing one is returned as the zero value.
func (s *Server) application(ctx context.Context, id string) (directory.Application, error) {
	app, _, err := directory.Get[directory.Application](ctx, s.dir, id)
	if fault.KindOf(err) == fault.NotFound {
		return directory.Application{}, nil
	}
	return app, err
}

// admit checks that an authenticated application may have a token by method.
func admit(app directory.Application, method string) error {
	if !slices.Contains(app.AuthMethods, method) {
		return badClient(nil, "this client is not allowed to authenticate with %s", method)
	}
	if app.Status != directory.StatusActive {
		return oauthErr(fault.Forbidden, CodeUnauthorizedClient, "", nil, "the client application is %s", app.Status)
	}
	return nil
}
