package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/mutations"
	"github.com/crossroads-hub/crossroads/internal/oauth"
)

// notify serves {prefix}/{registry}/registry/notify: an authentic source telling the hub
// of changes. Only a source may: the token's application must belong to the institution
// of a service of that registry, and the message must carry a valid signature of one of
// the application's keys, whatever its signature policy. Every refusal is recorded.
//
// An accepted notify is recorded, and each change it carries (a record naming a person, of
// an event type the hub routes) goes onto the event bus, to be routed to the institutions
// with a file, a subscription and an authorization for the source's service — as the
// civil register's changes are.
func (s *Server) notify(w http.ResponseWriter, r *http.Request) error {
	corr := newID()
	service := "dci:" + r.PathValue("registry") + ":notify"
	from, err := s.readFromSource(w, r, service, registries[r.PathValue("registry")], "notify changes of", corr, true)
	if err != nil {
		return err
	}
	claims, body, env, source := from.claims, from.body, from.env, from.service
	if err := s.recordNotify(r, claims.ClientID, claims.Institution, service, "notify", body); err != nil {
		return err
	}
	if s.events != nil {
		for _, m := range notifiedChanges(claims.Institution, source, registries[r.PathValue("registry")], env.Message, s.dir.Today()) {
			if err := s.events.Ingest(r.Context(), m); err != nil {
				return acked(corr, fault.Unavailablef(err, "the change could not be taken; send it again"))
			}
		}
	}
	s.ack(w, http.StatusAccepted, dci.NewAck(corr, time.Now()))
	return nil
}

// fromSource is a message an authentic source sent the hub, authenticated.
type fromSource struct {
	claims  oauth.Claims
	body    []byte
	env     dci.RawEnvelope
	service string // the source's service of the registry
}

// readFromSource reads a message only an authentic source of registry may send (notify,
// the callbacks of asynchronous sources, enrolment updates): the token's application
// has scope registry.notify and belongs to the institution of a service of registry, and
// the message is signed with one of the application's keys, whatever its signature
// policy. Refusals are recorded (refused); a message that is no envelope is answered
// ACK ERR under corr when ack, else as an error.
func (s *Server) readFromSource(w http.ResponseWriter, r *http.Request, service, registry, may, corr string, ack bool) (m fromSource, err error) {
	if m.claims, m.body, err = s.readAsync(w, r, "registry.notify", service, corr); err != nil {
		return m, err
	}
	if m.env, err = dci.SplitEnvelope(m.body); err != nil {
		if ack {
			return m, acked(corr, err)
		}
		return m, err
	}
	if m.env.Signature == "" {
		return m, refused(m.claims.ClientID, service, m.body, dci.Coded(fault.Unauthorized, dci.ErrSignatureMissing, "signature", "the message must be signed"))
	}
	if err := s.checkSignatureAlways(r, m.claims.ClientID, m.env); err != nil {
		return m, refused(m.claims.ClientID, service, m.body, err)
	}
	if m.service = s.serviceOf(r, m.claims.Institution, registry); m.service == "" {
		return m, refused(m.claims.ClientID, service, m.body,
			dci.Coded(fault.Forbidden, dci.ErrForbidden, "sender", m.claims.Institution+" offers no "+registry+" service: it cannot "+may+" that registry"))
	}
	return m, nil
}

// notifiedChanges reads the changes of a NotifyEventRequest to registry ("farmer"): one
// per record that names a person, of an event type the hub routes. Its id (the
// idempotency key of its copies) is remote:<institution>:<transaction_id>/<reference_id>/<n>.
// The copies carry the registry's reg_type and the reg_record_type the source gave.
func notifiedChanges(institution, service, registry string, message json.RawMessage, today date.Date) []mutations.Mutation {
	var msg struct {
		TransactionID string `json:"transaction_id"`
		Events        []struct {
			ReferenceID string `json:"reference_id"`
			Data        struct {
				EventType  string          `json:"reg_event_type"`
				RecordType string          `json:"reg_record_type"`
				Records    json.RawMessage `json:"reg_records"`
			} `json:"data"`
		} `json:"notify_event"`
	}
	if json.Unmarshal(message, &msg) != nil {
		return nil
	}
	if registry == "civil" {
		registry = "" // a mutation of the civil register's records names no registry
	}
	var out []mutations.Mutation
	for _, ev := range msg.Events {
		typ := dci.EventType(ev.Data.EventType)
		var records []map[string]any
		if json.Unmarshal(ev.Data.Records, &records) != nil { // CRVS and FR type it as one object
			var one map[string]any
			if json.Unmarshal(ev.Data.Records, &one) != nil {
				continue
			}
			records = []map[string]any{one}
		}
		for n, rec := range records {
			person, _ := rec["person"].(string)
			if typ == "" || !ident.ValidPerson(person) {
				continue
			}
			out = append(out, mutations.Mutation{Source: institution, Service: service, Registry: registry, Type: typ, Person: person, Date: today, Record: rec,
				RecordType: ev.Data.RecordType, ID: "remote:" + institution + ":" + msg.TransactionID + "/" + ev.ReferenceID + "/" + strconv.Itoa(n)})
		}
	}
	return out
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

// serviceOf returns institution's service of registry, "" when it offers none.
func (s *Server) serviceOf(r *http.Request, institution, registry string) string {
	page, err := directory.List[directory.Service](r.Context(), s.dir, directory.ListQuery{Limit: 1000}, nil)
	if err != nil {
		return ""
	}
	for _, svc := range page.Items {
		if svc.Institution == institution && svc.Registry == registry {
			return svc.ID
		}
	}
	return ""
}

// recordNotify records an accepted notify in the audit log.
func (s *Server) recordNotify(r *http.Request, clientID, institution, service, what string, body []byte) error {
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: clientID, Institution: institution}, Service: service, Request: body, Start: time.Now()}
	ans := exchange.Answer{Status: http.StatusAccepted, Decision: exchange.Decision{Permit: true, Reasons: []string{what + " of " + institution + " accepted"}}}
	_, err := s.exchange.Seal(r.Context(), ask, ans, nil)
	return err
}

// CallbackSink takes the callbacks of asynchronous sources for the hub's calls waiting
// for them (dciclient.Callbacks).
type CallbackSink interface {
	Deliver(transaction, institution, action string, body []byte) error
}

// sourceCallbacks are the callbacks the hub receives as requester of asynchronous
// sources, by path under {prefix}/{registry}/registry/, with their header action.
var sourceCallbacks = map[string]string{"on-search": "on-search", "on-subscribe": "on-subscribe",
	"on-unsubscribe": "on-unsubscribe", "txn/on-status": "txn-on-status"}

// sourceCallback serves a callback of an asynchronous source: the answer to a call the
// hub made (today: registry/search to a service in mode async). As for notify, only a
// source of the registry may call back: the token's application (scope registry.notify)
// belongs to the institution of a service of that registry, and the message is signed
// with one of the application's keys. The callback goes to the call waiting for its
// transaction_id, if that call was made to this institution and awaits this action;
// anything else is refused. Every callback and refusal is recorded.
func (s *Server) sourceCallback(action string) dciHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		corr := newID()
		service := "dci:" + r.PathValue("registry") + ":" + action
		from, err := s.readFromSource(w, r, service, registries[r.PathValue("registry")], "answer for", corr, true)
		if err != nil {
			return err
		}
		claims, body, env := from.claims, from.body, from.env
		var msg struct {
			TransactionID string `json:"transaction_id"`
		}
		_ = json.Unmarshal(env.Message, &msg)
		err = fault.NotFoundf("the hub awaits no callbacks")
		if s.sourceCallbacks != nil {
			err = s.sourceCallbacks.Deliver(msg.TransactionID, claims.Institution, action, body)
		}
		if err != nil {
			return refused(claims.ClientID, service, body, err)
		}
		if err := s.recordNotify(r, claims.ClientID, claims.Institution, service, action, body); err != nil {
			return err
		}
		s.ack(w, http.StatusAccepted, dci.NewAck(corr, time.Now()))
		return nil
	}
}
