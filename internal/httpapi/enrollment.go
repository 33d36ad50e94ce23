package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/mutations"
)

// maxBeneficiaries is the most beneficiaries one enrolment update may carry.
const maxBeneficiaries = 1000

// enrollmentUpdates serves {prefix}/ibr/registry/sync/enrollment/updates: a social
// protection system telling the integrated beneficiary registry of enrolments. The hub
// treats it as the enrolment source's changes, as a notify: only an authentic source of
// the beneficiary registry may send it (the token's application, scope registry.notify,
// belongs to the institution of a beneficiary service; the message is signed with one of
// its keys), it is recorded, and each beneficiary naming a person becomes an "enrolment"
// change routed to the institutions with a file, a subscription and an authorization.
// The answer has one item per beneficiary: succ, or rjct when it names no person number.
// The built-in beneficiary registry is derived from the civil register and does not
// store the updates; a remote one behind the hub would.
func (s *Server) enrollmentUpdates(w http.ResponseWriter, r *http.Request) error {
	corr := newID()
	r.SetPathValue("registry", "ibr")
	service := "dci:ibr:enrollment-updates"
	from, err := s.readFromSource(w, r, service, "beneficiary", "update enrolments of", corr, false)
	if err != nil {
		return err
	}
	claims, body, env, source := from.claims, from.body, from.env, from.service
	var msg struct {
		TransactionID string `json:"transaction_id"`
		Updates       *struct {
			Beneficiaries []json.RawMessage `json:"beneficiaries"`
		} `json:"enrolled_updates"`
	}
	switch {
	case json.Unmarshal(env.Message, &msg) != nil:
		return fault.Invalidf("message", "is not an enrolment update (transaction_id, enrolled_updates.beneficiaries)")
	case msg.TransactionID == "" || len(msg.TransactionID) > dci.MaxID:
		return fault.Invalidf("message.transaction_id", "must be 1 to %d characters", dci.MaxID)
	case msg.Updates == nil:
		return fault.Invalidf("message.enrolled_updates", "is required")
	case len(msg.Updates.Beneficiaries) > maxBeneficiaries:
		return fault.Invalidf("message.enrolled_updates.beneficiaries", "holds %d beneficiaries; at most %d in one message", len(msg.Updates.Beneficiaries), maxBeneficiaries)
	}
	changes, items := enrolledChanges(claims.Institution, source, msg.TransactionID, msg.Updates.Beneficiaries, s.dir.Today(), time.Now())
	if err := s.recordNotify(r, claims.ClientID, claims.Institution, service, "enrolment update", body); err != nil {
		return err
	}
	if s.events != nil {
		for _, m := range changes {
			if err := s.events.Ingest(r.Context(), m); err != nil {
				return fault.Unavailablef(err, "the update could not be taken; send it again")
			}
		}
	}
	out, _ := json.Marshal(map[string]any{"transaction_id": msg.TransactionID, "correlation_id": corr, "enrolled_response": items})
	writeRaw(w, http.StatusOK, out)
	return nil
}

// enrolledItem is the answer about one beneficiary of an enrolment update.
type enrolledItem struct {
	ReferenceID         string `json:"reference_id"`
	Timestamp           string `json:"timestamp"`
	Status              string `json:"status"`
	StatusReasonMessage string `json:"status_reason_message,omitempty"`
}

// enrolledChanges reads the beneficiaries of an enrolment update: one "enrolment" change
// for each that names a person number in "person", with id
// enrolment:<institution>:<transaction_id>/<n> (n from 1), and the answer's items,
// referenced by the beneficiary's reference_id or its position.
func enrolledChanges(institution, service, transaction string, beneficiaries []json.RawMessage, today date.Date, now time.Time) ([]mutations.Mutation, []enrolledItem) {
	var changes []mutations.Mutation
	items := make([]enrolledItem, 0, len(beneficiaries))
	for i, raw := range beneficiaries {
		n := strconv.Itoa(i + 1)
		var rec map[string]any
		_ = json.Unmarshal(raw, &rec)
		item := enrolledItem{ReferenceID: n, Timestamp: dci.Timestamp(now), Status: dci.StatusSuccess}
		if ref, ok := rec["reference_id"].(string); ok && ref != "" && len(ref) <= dci.MaxID {
			item.ReferenceID = ref
		}
		person, _ := rec["person"].(string)
		if p, err := ident.ParsePerson(person); err != nil {
			item.Status, item.StatusReasonMessage = dci.StatusRejected, "beneficiary "+n+": person is not a person number"
		} else {
			changes = append(changes, mutations.Mutation{Source: institution, Service: service, Type: "enrolment", Person: p.String(),
				Date: today, Record: rec, ID: "enrolment:" + institution + ":" + transaction + "/" + n})
		}
		items = append(items, item)
	}
	return changes, items
}
