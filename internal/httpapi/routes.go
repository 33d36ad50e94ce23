package httpapi

import (
	"net/http"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/oauth"
)

// router is where routes registers them: the server's http.ServeMux, or a test's list
// (every route must be in openapi.json).
type router interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
	Handle(pattern string, handler http.Handler)
}

// routes lists every route of the hub in one place.
func (s *Server) routes(mux router) {
	mux.HandleFunc("GET /{$}", s.adapt(s.index))
	mux.HandleFunc("GET /healthz", s.adapt(s.healthz))
	mux.HandleFunc("GET /readyz", s.adapt(s.readyz))
	mux.Handle("GET /metrics", s.reg.Handler())

	mux.HandleFunc("GET /public/authorizations", s.adapt(s.publicAuthorizations))
	if s.pop != nil {
		mux.HandleFunc("GET /.well-known/locations.json", s.adapt(s.locations))
	}
	mux.HandleFunc("GET /public/authorizations/{key}", s.adapt(s.publicAuthorization))

	records[directory.Institution](mux, s, "institutions", nil)
	records(mux, s, "applications", func(a directory.Application) string { return a.Institution })
	records(mux, s, "services", func(v directory.Service) string { return v.Institution })
	records(mux, s, "authorizations", func(v directory.Authorization) string { return v.Institution })
	records(mux, s, "subscriptions", func(v directory.Subscription) string { return v.Institution })
	mux.HandleFunc("POST /admin/applications/{key}/secret", s.admin(s.issueSecret))

	mux.HandleFunc("POST /admin/integrations", s.admin(s.integrate))
	mux.HandleFunc("GET /admin/integrations", s.admin(s.listIntegrations))
	mux.HandleFunc("GET /admin/persons/{person}/files", s.admin(s.personFiles))
	mux.HandleFunc("GET /admin/history", s.admin(s.history))
	mux.HandleFunc("GET /admin/nation", s.admin(s.nation))
	mux.HandleFunc("POST /admin/civil/events", s.admin(s.recordCivilChange))
	mux.HandleFunc("POST /admin/civil/births", s.admin(s.recordBirth))
	mux.HandleFunc("POST /admin/registries/{registry}/events", s.admin(s.recordRegistryChange))
	if s.events != nil {
		mux.HandleFunc("GET /admin/events", s.admin(s.eventsStatus))
		mux.HandleFunc("GET /admin/events/tail", s.admin(s.eventsTail))
		mux.HandleFunc("GET /admin/events/dead", s.admin(s.eventsDead))
		mux.HandleFunc("GET /admin/events/deliveries", s.admin(s.eventsDeliveries))
		mux.HandleFunc("POST /admin/events/dead/{subscription}/retry", s.admin(s.eventsRetry))
		mux.HandleFunc("GET /events/{subscription}/next", s.adapt(s.eventsNext))
		mux.HandleFunc("POST /events/{subscription}/ack", s.adapt(s.eventsAck))
	}

	if s.exchange != nil {
		mux.HandleFunc("POST "+oauth.TokenPath, s.adapt(s.token))
		mux.HandleFunc("GET /.well-known/jwks.json", s.adapt(s.jwks))
		mux.HandleFunc("POST "+s.dciPrefix+"/{registry}/registry/sync/search", s.dciAdapt(s.syncSearch))
		mux.HandleFunc("POST /sources/{name}/registry/sync/search", s.dciAdapt(s.builtinSearch))
		for path, call := range checkCalls {
			mux.HandleFunc("POST "+s.dciPrefix+"/"+path, s.dciAdapt(func(w http.ResponseWriter, r *http.Request) error { return s.check(w, r, call) }))
		}
		if s.async != nil {
			mux.HandleFunc("POST "+s.dciPrefix+"/{registry}/registry/search", s.dciAdapt(s.asyncSearch))
			mux.HandleFunc("POST "+s.dciPrefix+"/{registry}/registry/sync/txn/status", s.dciAdapt(s.syncTxnStatus))
			mux.HandleFunc("POST "+s.dciPrefix+"/{registry}/registry/txn/status", s.dciAdapt(s.asyncTxnStatus))
			mux.HandleFunc("POST "+s.dciPrefix+"/{registry}/registry/subscribe", s.dciAdapt(s.asyncSubscribe))
			mux.HandleFunc("POST "+s.dciPrefix+"/{registry}/registry/unsubscribe", s.dciAdapt(s.asyncUnsubscribe))
			mux.HandleFunc("POST "+s.dciPrefix+"/{registry}/registry/notify", s.dciAdapt(s.notify))
			mux.HandleFunc("POST "+s.dciPrefix+"/ibr/registry/sync/enrollment/updates", s.dciAdapt(s.enrollmentUpdates))
			for path, action := range sourceCallbacks {
				mux.HandleFunc("POST "+s.dciPrefix+"/{registry}/registry/"+path, s.dciAdapt(s.sourceCallback(action)))
			}
		}
		mux.HandleFunc("GET /openapi.json", s.adapt(s.openAPI))
		if s.dciPrefix != "" {
			mux.HandleFunc("GET "+s.dciPrefix, s.adapt(s.dciPage))
		}
		mux.HandleFunc("POST /exchange/batch", s.dciAdapt(s.batchConsult))
		if s.employment != nil { // the employer channel (#18)
			mux.HandleFunc("POST /declarations", s.dciAdapt(s.declare))
			mux.HandleFunc("POST /declarations/quarterly", s.dciAdapt(s.declareQuarter))
			mux.HandleFunc("POST /declarations/risks", s.dciAdapt(s.declareRisk))
			mux.HandleFunc("GET /declarations/risks", s.dciAdapt(s.riskInbox))
			mux.HandleFunc("GET /declarations/risks/{id}", s.dciAdapt(s.riskStatus))
			mux.HandleFunc("POST /declarations/risks/{id}/ack", s.dciAdapt(s.ackRisk))
		}
		if s.benefits != nil {
			mux.HandleFunc("POST /benefits", s.dciAdapt(s.reportBenefit))
		}
		mux.HandleFunc("GET /audit/checkpoint", s.adapt(s.auditCheckpoint))
		mux.HandleFunc("GET /audit/consistency", s.adapt(s.auditConsistency))
		mux.HandleFunc("POST /audit/cosignatures", s.adapt(s.auditCosignature))
		mux.HandleFunc("GET /audit/records/{seq}/evidence", s.adapt(s.auditEvidence))
		mux.HandleFunc("GET /audit/persons/{person}/exchanges", s.admin(s.personExchanges))
		if s.rights != nil { // the rights engine (#19): rights.go
			mux.HandleFunc("GET /persons/{person}/rights", s.adapt(s.personRights))
			mux.HandleFunc("GET /persons/{person}/rights/{right}/explanation", s.adapt(s.rightExplanation))
			mux.HandleFunc("GET /stats/rights", s.adapt(s.rightsStats))
		}
	}
}
