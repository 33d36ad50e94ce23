package httpapi

import (
	"net/http"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// notify serves {prefix}/{registry}/registry/notify: an authentic source telling the hub
// of changes. Only a source may: the token's application must belong to the institution
// of a service of that registry, and the message must carry a valid signature of one of
// the application's keys, whatever its signature policy. Every refusal is recorded.
//
// An accepted notify is acknowledged and recorded; routing a remote source's changes to
// subscribers as the civil register's are is not built yet (issue #5).
func (s *Server) notify(w http.ResponseWriter, r *http.Request) {
	corr := newID()
	reg := r.PathValue("registry")
	service := "dci:" + reg + ":notify"
	claims, body, ok := s.readAsync(w, r, "registry.notify", service, corr)
	if !ok {
		return
	}
	registry := registries[reg]
	env, err := dci.SplitEnvelope(body)
	if err != nil {
		s.ackError(w, r, err, corr)
		return
	}
	if env.Signature == "" {
		s.refuseUnauthenticated(w, r, claims.ClientID, service, dci.Coded(fault.Unauthorized, dci.ErrSignatureMissing, "signature", "a notify must be signed"))
		return
	}
	if err := s.checkSignatureAlways(r, claims.ClientID, env); err != nil {
		s.refuseUnauthenticated(w, r, claims.ClientID, service, err)
		return
	}
	if !s.isSourceOf(r, claims.Institution, registry) {
		s.refuseUnauthenticated(w, r, claims.ClientID, service,
			dci.Coded(fault.Forbidden, dci.ErrForbidden, "sender", claims.Institution+" offers no "+registry+" service: it cannot notify changes of that registry"))
		return
	}
	if err := s.recordNotify(r, claims.ClientID, claims.Institution, service, body); err != nil {
		s.dciError(w, r, err)
		return
	}
	s.ack(w, http.StatusAccepted, dci.NewAck(corr, time.Now()))
}

// checkSignatureAlways checks the envelope's signature with the application's keys, as
// the policy "required" does.
func (s *Server) checkSignatureAlways(r *http.Request, clientID string, env dci.RawEnvelope) error {
	e, err := s.signerOf(r.Context(), clientID)
	if err != nil {
		return err
	}
	e.policy = directory.SignaturesRequired
	return s.verifyWith(e, env.Signature, env.Header, env.Message)
}

// isSourceOf reports whether institution offers a service of registry.
func (s *Server) isSourceOf(r *http.Request, institution, registry string) bool {
	page, err := directory.List[directory.Service](r.Context(), s.dir, directory.ListQuery{Limit: 1000}, nil)
	if err != nil {
		return false
	}
	for _, svc := range page.Items {
		if svc.Institution == institution && svc.Registry == registry {
			return true
		}
	}
	return false
}

// recordNotify records an accepted notify in the audit log.
func (s *Server) recordNotify(r *http.Request, clientID, institution, service string, body []byte) error {
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: clientID, Institution: institution}, Service: service, Request: body, Start: time.Now()}
	ans := exchange.Answer{Status: http.StatusAccepted, Decision: exchange.Decision{Permit: true, Reasons: []string{"notify of " + institution + " accepted"}}}
	_, err := s.exchange.Seal(r.Context(), ask, ans, nil)
	return err
}
