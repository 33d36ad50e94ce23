package portal

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"rsc.io/qr"

	"github.com/crossroads-hub/crossroads/internal/exchange"
)

// proofPage lists the statuses held today that the citizen may prove, and the proof
// created last.
func (p *Portal) proofPage(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	list, err := p.statuses.Statuses(r.Context(), ss.Person, p.today())
	if err != nil {
		return err
	}
	held := holders(list)
	var last *proof
	if ss.Proof != nil && p.now().Before(ss.Proof.CredUntil) {
		last = ss.Proof
	}
	p.render(w, r, ss, lang, "proof", map[string]any{"Held": held, "Proof": last})
	return nil
}

// proofCreate makes a code and a credential for a status the citizen holds today,
// checked again now (never trusting the form).
func (p *Portal) proofCreate(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	if !p.limits.charge("proof:"+ss.Person, budgetProof) {
		return pageErr(http.StatusTooManyRequests, "error.limit", nil)
	}
	id := r.PostForm.Get("status")
	list, err := p.statuses.Statuses(r.Context(), ss.Person, p.today())
	if err != nil {
		return err
	}
	st, ok := find(list, id)
	if !ok || !st.Holds {
		return pageErr(http.StatusBadRequest, "proof.none", nil)
	}
	now := p.now()
	label := T("en", st.Key)
	if st.Title != "" {
		label = st.Title
	}
	if st.Detail != "" {
		label += " " + st.Detail
	}
	name := ss.Name
	pr := &proof{Code: newCode(), Person: ss.Person, Name: name, Status: st.ID, Label: label, Created: now, Expires: now.Add(codeLife),
		JTI: "urn:uuid:" + uuid(), CredUntil: now.Add(credentialLife)}
	pr.JWT, err = signCredential(p.cfg.Keys, newCredential(p.cfg.Issuer, pr.JTI, name, st.ID, p.today().String(), now))
	if err != nil {
		return err
	}
	p.proofs.add(pr)
	ss.Proof = pr
	http.Redirect(w, r, Prefix+"proof", http.StatusSeeOther)
	return nil
}

// proofQR is the QR code of the session's last credential, as a PNG: the credential
// never appears in a URL.
func (p *Portal) proofQR(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	if ss.Proof == nil {
		return pageErr(http.StatusNotFound, "error.notfound", nil)
	}
	code, err := qr.Encode(ss.Proof.JWT, qr.L)
	if err != nil {
		return err
	}
	code.Scale = 4
	w.Header().Set("Content-Type", "image/png")
	w.Write(code.PNG())
	return nil
}

func uuid() string {
	b := []byte(randomToken(16))
	h := sha256.Sum256(b)
	u := h[:16]
	u[6] = (u[6] & 0x0f) | 0x40
	u[8] = (u[8] & 0x3f) | 0x80
	const hx = "0123456789abcdef"
	var sb strings.Builder
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			sb.WriteByte('-')
		}
		sb.WriteByte(hx[c>>4])
		sb.WriteByte(hx[c&15])
	}
	return sb.String()
}

// The service and purpose under which an online check of a proof is recorded.
const (
	ProofService = "portal-proof"
	ProofPurpose = "check of a proof of status presented by the person"
)

// verdict is what a verifier sees: valid or not, for which status, and the name.
type verdict struct {
	Valid  bool
	Status string
	Name   string
	Reason string // message key when not valid
}

// recordCheck seals one online check in the audit log, under the person when it is
// known, so that they see it under "who consulted my data".
func (p *Portal) recordCheck(ctx context.Context, pro Professional, person, label, what string, v verdict, reason string) error {
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: pro.ClientID, Institution: pro.Institution}, Service: ProofService,
		Purpose: ProofPurpose, Start: p.now()}
	ask.Request, _ = json.Marshal(map[string]string{"checked": what})
	ans := exchange.Answer{Status: 200, Decision: exchange.Decision{Permit: v.Valid, Fields: []string{"name", "status"},
		Reasons: []string{reason}}}
	if person != "" {
		ans.Persons = []string{person}
	}
	if !v.Valid {
		ans.Status, ans.Err = 403, errors.New(reason)
		ans.Decision.Fields = nil
	}
	if label != "" {
		ans.Decision.Reasons = append(ans.Decision.Reasons, "status: "+label)
	}
	resp, _ := json.Marshal(v)
	_, err := p.cfg.Exchange.Seal(ctx, ask, ans, resp)
	return err
}
