package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/g2p"
	"github.com/crossroads-hub/crossroads/internal/iban"
)

// G2PDeps is the delivery chain the /g2p/ routes serve (#21): the programme, its bank
// reached through the disburse interface, and, in the demo, the SMS outbox.
type G2PDeps struct {
	Service   *g2p.Service
	Disburser g2p.Disburser
	Outbox    *g2p.Outbox // nil: no outbox page
}

// maxStatement bounds a statement uploaded for reconciliation (about 1.4 million
// camt.053 entries).
const maxStatement = 1 << 30

// G2P returns the handler of the /g2p/ routes, the programme office's, with an
// administrator token: a registration is started by a social worker who has seen the
// applicant's identity document (an outsider started registrations with no token, for
// anybody's person number and his own mobile, and read their eligibility); the one-time
// code sent to the mobile then confirms it, by the registration's id (96 random bits).
// Self-registration needs the applicant logged in with the e-ID (not built yet).
func (s *Server) G2P(d G2PDeps) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /g2p/registrations", s.admin(func(w http.ResponseWriter, r *http.Request, actor string) error {
		var a g2p.Application
		if err := decode(w, r, &a); err != nil {
			return err
		}
		a.Actor = actor
		reg, err := d.Service.Start(r.Context(), a)
		if err != nil {
			return err
		}
		if reg.Status == g2p.AlreadyRegistered {
			writeJSON(w, http.StatusOK, reg) // nothing was created
			return nil
		}
		writeJSON(w, http.StatusCreated, reg)
		return nil
	}))
	// The state names the person and the reasons of the decision: the office's only
	// (an outsider read them with a registration's id; the applicant sees them in the
	// answer to the code, with the e-ID login later).
	mux.HandleFunc("GET /g2p/registrations/{id}", s.admin(func(w http.ResponseWriter, r *http.Request, _ string) error {
		reg, err := d.Service.Store.Registration(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, reg)
		return nil
	}))
	mux.HandleFunc("POST /g2p/registrations/{id}/code", s.adapt(func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			Code string `json:"code"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		if len(body.Code) != g2p.CodeDigits {
			return fault.Invalidf("code", "the %d digits of the SMS", g2p.CodeDigits)
		}
		reg, err := d.Service.Confirm(r.Context(), r.PathValue("id"), body.Code)
		if err != nil {
			return err
		}
		if err := reg.CodeRefusal(); err != nil {
			return err // 403 (wrong, expired, used) or 429 (locked), the problem body of every API
		}
		writeJSON(w, http.StatusOK, reg)
		return nil
	}))
	mux.HandleFunc("POST /g2p/registrations/{id}/resend", s.adapt(func(w http.ResponseWriter, r *http.Request) error {
		reg, err := d.Service.Resend(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, reg)
		return nil
	}))
	mux.HandleFunc("POST /g2p/registrations/batch", s.admin(func(w http.ResponseWriter, r *http.Request, actor string) error {
		format := g2p.FormatJSON
		if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) == "text/csv" {
			format = g2p.FormatCSV
		}
		lines, err := g2p.ParseBatch(http.MaxBytesReader(w, r.Body, 64<<20), format)
		if err != nil {
			return err
		}
		res, err := d.Service.RegisterLines(r.Context(), lines, actor, 16)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"results": res})
		return nil
	}))
	mux.HandleFunc("GET /g2p/beneficiaries/{person}", s.admin(func(w http.ResponseWriter, r *http.Request, _ string) error {
		b, err := d.Service.Store.Beneficiary(r.Context(), r.PathValue("person"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, b)
		return nil
	}))
	mux.HandleFunc("POST /g2p/mapper/sync/resolve", s.admin(func(w http.ResponseWriter, r *http.Request, _ string) error {
		return mapperResolve(w, r, d.Service)
	}))
	for _, op := range []string{g2p.OpLink, g2p.OpUpdate, g2p.OpUnlink} {
		mux.HandleFunc("POST /g2p/mapper/sync/"+op, s.admin(func(w http.ResponseWriter, r *http.Request, _ string) error {
			return mapperChange(w, r, d.Service, op)
		}))
	}
	mux.HandleFunc("POST /g2p/cycles", s.admin(func(w http.ResponseWriter, r *http.Request, _ string) error {
		var body struct {
			PayDay string `json:"pay_day"` // parsed here, so that a bad day names its field
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		payDay, err := date.Parse(body.PayDay)
		if err != nil || payDay.IsZero() {
			return fault.Invalidf("pay_day", "%q is not a day of payment, YYYY-MM-DD", body.PayDay)
		}
		rep, err := d.Service.RunCycle(r.Context(), d.Disburser, payDay)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, rep)
		return nil
	}))
	mux.HandleFunc("POST /g2p/cycles/{cycle}/statements", s.admin(func(w http.ResponseWriter, r *http.Request, _ string) error {
		format := g2p.CSV
		switch ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) {
		case "application/xml", "text/xml":
			format = g2p.CAMT053
		case "text/csv":
		default:
			return fault.Unsupportedf("Content-Type", "a camt.053 statement (application/xml) or a CSV one (text/csv)")
		}
		rec, err := d.Service.Reconcile(r.Context(), r.PathValue("cycle"), format, http.MaxBytesReader(w, r.Body, maxStatement))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, rec)
		return nil
	}))
	if d.Outbox != nil {
		mux.HandleFunc("GET /g2p/outbox", s.admin(func(w http.ResponseWriter, r *http.Request, _ string) error {
			writeJSON(w, http.StatusOK, map[string]any{"note": "the demo's SMS gateway: messages are kept here, not sent", "messages": d.Outbox.All()})
			return nil
		}))
	}
	return mux
}

func itoa(n int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

// The G2P Connect mapper's messages (mapper_core_api_v1.0.0.yaml), the parts the hub
// reads and writes: a message of items, each with its reference id and timestamp.
type resolveItem struct {
	ReferenceID string `json:"reference_id"`
	Timestamp   string `json:"timestamp"`
	ID          string `json:"id"`
	Scope       string `json:"scope,omitempty"`
}

type mapperAnswer struct {
	ReferenceID string `json:"reference_id"`
	Timestamp   string `json:"timestamp"`
	ID          string `json:"id,omitempty"`
	FA          string `json:"fa,omitempty"`
	Status      string `json:"status"`
	ReasonCode  string `json:"status_reason_code,omitempty"`
	Message     string `json:"status_reason_message,omitempty"`
}

// mapperResolve answers /mapper/sync/resolve: every id of the programme's own list, or
// the whole request refused (and recorded) when one is not.
func mapperResolve(w http.ResponseWriter, r *http.Request, svc *g2p.Service) error {
	var req struct {
		Message struct {
			TransactionID string        `json:"transaction_id"`
			Items         []resolveItem `json:"resolve_request"`
		} `json:"message"`
	}
	if err := decodeLoose(w, r, &req); err != nil {
		return err
	}
	if len(req.Message.Items) == 0 || len(req.Message.Items) > 1000 {
		return fault.Invalidf("message.resolve_request", "1 to 1000 items")
	}
	persons := make([]string, len(req.Message.Items))
	for i, it := range req.Message.Items {
		p, err := g2p.ParsePersonID(it.ID)
		if err != nil {
			return fault.In("message.resolve_request["+itoa(i)+"]", err)
		}
		if it.Scope != "" && it.Scope != "yes_no" && it.Scope != "details" {
			return fault.Invalidf("message.resolve_request["+itoa(i)+"].scope", "%q is not a scope: yes_no (the default) or details", clipPath(it.Scope))
		}
		persons[i] = p
	}
	ms, seq, err := svc.Resolve(r.Context(), persons)
	if seq > 0 {
		w.Header().Set("X-Audit-Records", itoa(int(seq)))
	}
	if err != nil {
		return err
	}
	now := time.Now().UTC().Format(time.RFC3339)
	out := make([]mapperAnswer, len(persons))
	for i, it := range req.Message.Items {
		a := mapperAnswer{ReferenceID: it.ReferenceID, Timestamp: now, ID: it.ID, Status: "succ"}
		m, ok := ms[persons[i]]
		switch {
		case !ok:
			a.ReasonCode = "succ.fa.not_linked_to_id"
		case it.Scope == "details":
			a.FA, a.ReasonCode = g2p.FinancialAddress(m.FA, m.Bank), "succ.fa.active"
		default: // yes_no: linked or not, not the account
			a.ReasonCode = "succ.fa.active"
		}
		out[i] = a
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": map[string]any{"transaction_id": req.Message.TransactionID, "resolve_response": out}})
	return nil
}

// mapperChange answers /mapper/sync/link, /update and /unlink (op): a verdict per item,
// each applied whole or not at all (g2p.Service.Map); an item that cannot be read is
// refused on its own, never the message.
func mapperChange(w http.ResponseWriter, r *http.Request, svc *g2p.Service, op string) error {
	var req struct {
		Message struct {
			TransactionID string         `json:"transaction_id"`
			Link          []mapperItemIn `json:"link_request"`
			Update        []mapperItemIn `json:"update_request"`
			Unlink        []mapperItemIn `json:"unlink_request"`
		} `json:"message"`
	}
	if err := decodeLoose(w, r, &req); err != nil {
		return err
	}
	in := map[string][]mapperItemIn{g2p.OpLink: req.Message.Link, g2p.OpUpdate: req.Message.Update, g2p.OpUnlink: req.Message.Unlink}[op]
	if len(in) == 0 || len(in) > g2p.MaxMapperItems {
		return fault.Invalidf("message."+op+"_request", "1 to %d items", g2p.MaxMapperItems)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	out := make([]mapperAnswer, len(in))
	var items []g2p.MapperItem
	var at []int // the answer of each item read
	for i, it := range in {
		out[i] = mapperAnswer{ReferenceID: it.ReferenceID, Timestamp: now, ID: it.ID, FA: it.FA, Status: "rjct"}
		p, err := g2p.ParsePersonID(it.ID)
		if err != nil {
			out[i].ReasonCode, out[i].Message = "rjct.id.invalid", err.Error()
			continue
		}
		var acct iban.IBAN
		if op != g2p.OpUnlink {
			if acct, err = svc.Account(it.FA); err != nil {
				out[i].ReasonCode, out[i].Message = "rjct.fa.invalid", err.Error()
				continue
			}
		}
		items, at = append(items, g2p.MapperItem{Person: p, Account: acct}), append(at, i)
	}
	if len(items) > 0 {
		res, err := svc.Map(r.Context(), op, items)
		for k, v := range res {
			a := &out[at[k]]
			if v.Done {
				a.Status = "succ"
			} else {
				a.ReasonCode, a.Message = v.Reason, v.Why
			}
		}
		if err != nil {
			for _, i := range at[len(res):] {
				out[i].ReasonCode, out[i].Message = "rjct.unknown.retry", "not applied: the hub or the bank failed; send the item again"
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": map[string]any{"transaction_id": req.Message.TransactionID, op + "_response": out}})
	return nil
}

// mapperItemIn is an item of a link, update or unlink request.
type mapperItemIn struct {
	ReferenceID string `json:"reference_id"`
	Timestamp   string `json:"timestamp"`
	ID          string `json:"id"`
	FA          string `json:"fa,omitempty"`
}

// decodeLoose reads a G2P Connect envelope, whose header and signature the hub does not
// need here (the caller is authenticated by its token): unknown fields are allowed.
func decodeLoose(w http.ResponseWriter, r *http.Request, v any) error {
	if err := needContentType(r, "application/json"); err != nil {
		return err
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(v); err != nil {
		return jsonFault(err)
	}
	return nil
}
