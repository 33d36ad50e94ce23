package httpapi

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/crossroads-hub/crossroads/internal/answer"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// The registry-specific synchronous calls: IBR's sync/enrolled, DR's sync/disabled,
// sync/get-disability-details and sync/get-disability-support. Each asks about one
// person and goes through the exchange like a search (authorization of the fields it
// needs, person check, minimisation, audit); only the answer's shape differs.

type checkCall struct {
	registry string   // path segment: ibr, dr
	criteria string   // disabled_criteria, enrolled_criteria
	fields   []string // what the answer needs from the record
	// answer builds the message from the exchange's answer; bare says the standard gives
	// the answer without an envelope (IBR's sync/enrolled).
	answer func(req *dci.Envelope[dci.CheckRequest], ans exchange.Answer, correlationID, ts string) any
	bare   bool
}

var checkCalls = map[string]checkCall{
	"dr/registry/sync/disabled": {registry: "dr", criteria: "disabled_criteria", fields: []string{"person", "disabled"},
		answer: func(req *dci.Envelope[dci.CheckRequest], ans exchange.Answer, corr, ts string) any {
			it := checkItem(req, ans, ts)
			it.DisabledStatus = dci.YesNo(ans.Err == nil && len(ans.Records) > 0 && ans.Records[0]["disabled"] == true)
			return map[string]any{"transaction_id": req.Message.TransactionID, "correlation_id": corr, "disabled_response": []dci.CheckItem{it}}
		}},
	"dr/registry/sync/get-disability-details": {registry: "dr", criteria: "disabled_criteria", fields: []string{"person", "functional_domains", "severity", "disabled"},
		answer: func(req *dci.Envelope[dci.CheckRequest], ans exchange.Answer, corr, ts string) any {
			return infoResponse(req, ans, corr, ts, ans.Items())
		}},
	"dr/registry/sync/get-disability-support": {registry: "dr", criteria: "disabled_criteria", fields: []string{"person", "functional_domains", "disabled"},
		answer: func(req *dci.Envelope[dci.CheckRequest], ans exchange.Answer, corr, ts string) any {
			// One list of support needs per person (the standard types reg_records as a list of lists).
			var lists []any
			for _, rec := range ans.Records {
				lists = append(lists, supportNeeds(rec))
			}
			return infoResponse(req, ans, corr, ts, lists)
		}},
	"ibr/registry/sync/enrolled": {registry: "ibr", criteria: "enrolled_criteria", fields: []string{"person", "programmes"}, bare: true,
		answer: func(req *dci.Envelope[dci.CheckRequest], ans exchange.Answer, corr, ts string) any {
			it := checkItem(req, ans, ts)
			enrolled := false
			if ans.Err == nil && len(ans.Records) > 0 {
				progs, _ := ans.Records[0]["programmes"].([]any)
				enrolled = slices.ContainsFunc(progs, func(p any) bool {
					m, _ := p.(map[string]any)
					return req.Message.Programme == "" || m["programme"] == req.Message.Programme
				})
			}
			it.EnrolledStatus = dci.YesNo(enrolled)
			return map[string]any{"transaction_id": req.Message.TransactionID, "correlation_id": corr, "enrolled_response": []dci.CheckItem{it}}
		}},
}

func checkItem(req *dci.Envelope[dci.CheckRequest], ans exchange.Answer, ts string) dci.CheckItem {
	it := dci.CheckItem{ReferenceID: referenceOf(req), Timestamp: ts, Status: dci.StatusSuccess}
	if ans.Err != nil {
		it.Status, it.StatusReasonMessage = dci.StatusRejected, dci.SafeMessage(ans.Err)
	}
	return it
}

// referenceOf is the reference_id of a call's answer item: the request's, else (the
// documents give these calls none) its transaction_id.
func referenceOf(req *dci.Envelope[dci.CheckRequest]) string {
	return cmp.Or(req.Message.ReferenceID, req.Message.TransactionID)
}

// infoResponse is a search-shaped answer whose data holds only the records.
func infoResponse(req *dci.Envelope[dci.CheckRequest], ans exchange.Answer, corr, ts string, records []any) any {
	item := map[string]any{"reference_id": referenceOf(req), "timestamp": ts, "status": dci.StatusSuccess}
	if ans.Err != nil {
		item["status"], item["status_reason_message"] = dci.StatusRejected, dci.SafeMessage(ans.Err)
	} else {
		if records == nil {
			records = []any{}
		}
		item["data"] = map[string]any{"version": dci.Version, "reg_records": records}
	}
	return map[string]any{"transaction_id": req.Message.TransactionID, "correlation_id": corr, "search_response": []any{item}}
}

// supportNeeds lists the human assistance a person's functional difficulties call for:
// one need per domain with a lot of difficulty or worse.
func supportNeeds(rec map[string]any) []any {
	needs := []any{}
	domains, _ := rec["functional_domains"].(map[string]any)
	for _, d := range []string{"seeing", "hearing", "walking", "cognition", "self_care", "communication"} {
		switch domains[d] {
		case "a lot of difficulty", "cannot do at all":
			needs = append(needs, map[string]any{"human_assistance": map[string]any{"type": d, "frequency": "Daily", "support_status": "Needed"}})
		}
	}
	return needs
}

// check serves one registry-specific call. Its message id is remembered like a sync
// search's (recent) and kept in the audit record: a repeated message is refused (409,
// rjct.message_id.duplicate), also after a restart.
func (s *Server) check(w http.ResponseWriter, r *http.Request, call checkCall) error {
	start := time.Now()
	service := "dci:" + call.registry
	claims, err := s.bearer(r, "registry.search")
	if err != nil {
		return refused(claims.ClientID, service, nil, err)
	}
	body, err := readBody(w, r)
	if err != nil {
		return rejected(claims, service, body, err)
	}
	env, err := dci.DecodeCheck(body, call.criteria)
	if err != nil {
		return rejected(claims, service, body, err)
	}
	if err := s.checkSignature(r.Context(), claims.ClientID, env.Signature, env.RawHeader, env.RawMessage); err != nil {
		return refused(claims.ClientID, service, body, err)
	}
	q := query.Query{Kind: query.KindID, IDType: "UIN", IDValue: env.Message.Person, Page: 1, PageSize: 1}
	m, err := answer.ReadMeta(env.Header.Meta)
	if err != nil {
		return naming(rejected(claims, service, body, err), exchange.Named(q))
	}
	if rep, err := s.repeated(r.Context(), claims.ClientID, env.Header.MessageID); err != nil {
		return err
	} else if rep {
		return naming(rejected(claims, service, body, dci.Coded(fault.Conflict, dci.ErrRequestBad, "header.message_id",
			fmt.Sprintf("%s: message %.99q was already received; it is not processed again", dci.RjctMessageIDDuplicate, env.Header.MessageID))), exchange.Named(q))
	}
	service = s.serviceFor(registries[call.registry], env.Header.ReceiverID)
	day, _ := date.Parse(m.OnDate)
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: claims.ClientID, Institution: claims.Institution}, Service: service,
		Purpose: m.Purpose, Fields: call.fields, Day: day, Request: body, Start: start, Query: q, MessageID: env.Header.MessageID}
	done := s.exchange.Expect(1)
	defer done()
	ans := s.exchange.Search(r.Context(), ask)
	if fault.KindOf(ans.Err) == fault.Forbidden {
		out := problemFor(r, http.StatusForbidden, ans.Err).bytes()
		seq, err := s.exchange.Seal(r.Context(), ask, ans, out)
		if err != nil {
			return err
		}
		w.Header().Set("X-Audit-Records", strconv.FormatInt(seq, 10))
		writeProblem(w, http.StatusForbidden, out)
		return nil
	}
	ans.Records, ans.Raw = ans.Decoded(), nil // the answers read the records' values
	now := time.Now()
	message := call.answer(env, ans, newID(), dci.Timestamp(now))
	var out []byte
	if call.bare {
		out, err = json.Marshal(message)
	} else {
		h := dci.CallbackHeaderFor(env.Header, dci.ActionOnSearch, newID(), outbound.SenderID, now)
		out, err = json.Marshal(struct {
			Header  dci.CallbackHeader `json:"header"`
			Message any                `json:"message"`
		}{h, message})
	}
	if err != nil {
		return fault.Wrap(err, "encode answer")
	}
	seq, err := s.exchange.Seal(r.Context(), ask, ans, out)
	if err != nil {
		return err
	}
	w.Header().Set("X-Audit-Records", strconv.FormatInt(seq, 10))
	writeRaw(w, http.StatusOK, out)
	return nil
}
