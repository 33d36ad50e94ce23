package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/crossroads-hub/crossroads/internal/benefits"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/oauth"
)

// reportBenefit serves POST /benefits: an application of a granting body reports the
// additional benefit it granted (report, correct, end; benefits.Service decides). Every
// attempt is sealed in the audit log under the person, refused ones too: an
// unauthenticated or unreadable one here, the others by the service.
func (s *Server) reportBenefit(w http.ResponseWriter, r *http.Request) error {
	// The body (a few KiB at most) is read first, so that even an unauthenticated
	// attempt's record names the person it was about.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, benefits.MaxInput))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			err = fault.TooLargef("body", "a report is at most %d bytes", benefits.MaxInput)
		}
		return refused("", benefits.AuditService, []byte{}, err)
	}
	token, ok := bearerToken(r)
	if !ok || token == "" {
		return naming(refused("", benefits.AuditService, body, fault.Unauthorizedf("send an access token of an application as 'Authorization: Bearer <token>'")), personIn(body))
	}
	c, err := s.oauth.Verify(r.Context(), token)
	if err != nil {
		return naming(refused("", benefits.AuditService, body, fault.Unauthorizedf("the access token is not valid")), personIn(body))
	}
	if err := needContentType(r, "application/json"); err != nil {
		return naming(rejected(c, benefits.AuditService, body, err), personIn(body))
	}
	in, err := benefits.ParseInput(body)
	if err != nil {
		return naming(rejected(c, benefits.AuditService, body, err), personIn(body))
	}
	res, err := s.benefits.Submit(r.Context(), callerOf(c), in, body)
	if err != nil && res.Audit == 0 {
		return err // the audit log could not record it: nothing was accepted
	}
	w.Header().Set("X-Audit-Records", strconv.FormatInt(res.Audit, 10))
	if err != nil {
		status := benefits.StatusOf(err)
		writeProblem(w, status, problemFor(r, status, err).bytes())
		return nil
	}
	status := http.StatusCreated
	if res.Again {
		status = http.StatusOK
	}
	writeJSON(w, status, res)
	return nil
}

func callerOf(c oauth.Claims) exchange.Caller {
	return exchange.Caller{ClientID: c.ClientID, Institution: c.Institution}
}

// personIn is the person a report refused as unreadable names, when it names a valid
// one, for that person to find the attempt.
func personIn(body []byte) []string {
	var probe struct {
		Person string `json:"person"`
	}
	if json.Unmarshal(body, &probe) == nil && ident.ValidPerson(probe.Person) {
		return []string{probe.Person}
	}
	return nil
}
