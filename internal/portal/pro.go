package portal

import (
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

func (p *Portal) proPage(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	p.render(w, r, ss, lang, "pro", p.proData(ss, map[string]any{}))
	return nil
}

// proData adds what the professional page's benefit form needs: the rights the
// logged-in institution grants (none: no form).
func (p *Portal) proData(ss *session, data map[string]any) map[string]any {
	if ss.Pro != nil && p.cfg.Benefits != nil {
		data["Grants"], data["Today"] = p.grants(ss.Pro.Institution), p.today().String()
	}
	return data
}

// proLogin logs an application of an institution in with its client credentials. Its
// failures are limited where the token endpoint's are, by ProLogin (the hub's OAuth2
// server: per client id and, higher, per address, the same counts for both doors), so
// one application's wrong secrets do not stop the others at the same address.
func (p *Portal) proLogin(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	if p.cfg.Pro == nil {
		return pageErr(http.StatusNotFound, "error.notfound", errors.New("no professional login configured"))
	}
	pro, err := p.cfg.Pro(r.Context(), strings.TrimSpace(r.PostForm.Get("client_id")), r.PostForm.Get("client_secret"), clientAddr(r))
	if fault.KindOf(err) == fault.TooMany {
		return pageErr(http.StatusTooManyRequests, "error.limit", err)
	}
	if err != nil {
		return pageErr(http.StatusUnauthorized, "error.login", err)
	}
	old, _ := r.Cookie(p.cookieName())
	ss.Pro, ss.Person, ss.Name, ss.Proof, ss.Admin = &pro, "", "", nil, ""
	p.setCookie(w, p.sessions.rotate(old.Value, ss))
	http.Redirect(w, r, Prefix+"pro", http.StatusSeeOther)
	return nil
}

// proVerify checks a code or a credential for the logged-in verifier. Each check is
// recorded in the audit log, refused ones included; wrong codes are counted per
// verifier and per address, so codes cannot be guessed.
func (p *Portal) proVerify(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
	if ss.Pro == nil {
		http.Redirect(w, r, Prefix+"pro", http.StatusSeeOther)
		return nil
	}
	pro, from := *ss.Pro, clientAddr(r)
	keys := []string{"verify:" + pro.Institution, "verify-addr:" + from}
	for _, k := range keys {
		if !p.limits.allow(k, budgetVerify) {
			p.recordCheck(r.Context(), pro, "", "", "rate limited", verdict{}, "too many wrong codes: refused without checking")
			return pageErr(http.StatusTooManyRequests, "error.limit", nil)
		}
	}
	var v verdict
	var err error
	cred, code := strings.TrimSpace(r.PostForm.Get("credential")), strings.TrimSpace(r.PostForm.Get("code"))
	switch {
	case cred != "":
		v, err = p.checkCredential(r, pro, cred)
	case code != "":
		v, err = p.checkCode(r, pro, code)
	default: // nothing presented: nothing checked, nothing counted
		p.render(w, r, ss, lang, "pro", p.proData(ss, map[string]any{"Verdict": verdict{Reason: "error.empty"}}))
		return nil
	}
	if err != nil {
		return err
	}
	if !v.Valid {
		for _, k := range keys {
			p.limits.charge(k, budgetVerify)
		}
	}
	p.render(w, r, ss, lang, "pro", p.proData(ss, map[string]any{"Verdict": v}))
	return nil
}

func (p *Portal) checkCode(r *http.Request, pro Professional, typed string) (verdict, error) {
	code := NormalizeCode(typed)
	var pr *proof
	expired := false
	if code != "" {
		pr, expired = p.proofs.byCode(code)
	}
	switch {
	case pr == nil:
		return verdict{Reason: "error.badcode"}, p.recordCheck(r.Context(), pro, "", "", "code", verdict{}, "unknown code")
	case expired:
		return verdict{Reason: "error.code.expired"}, p.recordCheck(r.Context(), pro, pr.Person, pr.Label, "code", verdict{}, "expired code")
	}
	if ok, err := p.heldToday(r.Context(), pr.Person, pr.Status); err != nil || !ok {
		if err != nil {
			return verdict{}, err
		}
		return verdict{Reason: "error.notheld"}, p.recordCheck(r.Context(), pro, pr.Person, pr.Label, "code", verdict{}, "valid code, but the person no longer holds the right today")
	}
	v := verdict{Valid: true, Status: pr.Status, Name: pr.Name}
	return v, p.recordCheck(r.Context(), pro, pr.Person, pr.Label, "code", v, "code presented by the person, valid until "+pr.Expires.UTC().Format("15:04:05 UTC"))
}

func (p *Portal) checkCredential(r *http.Request, pro Professional, token string) (verdict, error) {
	c, err := VerifyCredential(token, p.cfg.Keys.PublicJWKS(), p.cfg.Issuer, p.now())
	if err != nil {
		return verdict{Reason: credentialReason(err)}, p.recordCheck(r.Context(), pro, "", "", "credential", verdict{}, "credential refused: "+err.Error())
	}
	ref, known := p.proofs.person(c.ID)
	if strings.HasPrefix(c.VC.Subject.Status, RightPrefix) {
		// A right is valid only as long as its decision grants it: checked today, for the
		// person the credential was made for.
		if !known {
			return verdict{Reason: "error.unchecked"}, p.recordCheck(r.Context(), pro, "", "", "credential", verdict{},
				"credential "+c.ID+" of "+c.VC.Subject.Status+": its person is not known here (made before a restart), the right cannot be checked today")
		}
		ok, err := p.heldToday(r.Context(), ref.person, c.VC.Subject.Status)
		if err != nil {
			return verdict{}, err
		}
		if !ok {
			return verdict{Reason: "error.notheld"}, p.recordCheck(r.Context(), pro, ref.person, ref.label, "credential", verdict{},
				"credential "+c.ID+" signed, but the person no longer holds the right today")
		}
	}
	v := verdict{Valid: true, Status: c.VC.Subject.Status, Name: c.VC.Subject.Name}
	return v, p.recordCheck(r.Context(), pro, ref.person, ref.label, "credential", v, "credential "+c.ID+" presented by the person")
}

// clientAddr is the remote address without its port, the key of per-address limits:
// as the API's token endpoint takes it (an IPv6 address without brackets), so both
// doors count one address's failures together.
func clientAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
