package portal

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/benefits"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Prefix is where the hub mounts the portal.
const Prefix = "/portal/"

// Exchange is the hub's exchange as the portal uses it: a person reading their own
// data, and the sealing of every exchange in the audit log.
type Exchange interface {
	SearchSelf(ctx context.Context, ask exchange.Ask, person string) exchange.Answer
	Seal(ctx context.Context, ask exchange.Ask, ans exchange.Answer, response []byte) (int64, error)
}

// AuditLog is what "who consulted my data" reads.
type AuditLog interface {
	ByPerson(ctx context.Context, person string, after int64, limit int) ([]audit.Record, error)
	Evidence(ctx context.Context, seq int64) (audit.Evidence, error)
}

// Keys signs credentials with the hub's key and publishes its public half.
type Keys interface {
	SignJWS(typ string, payload []byte) (string, error)
	PublicJWKS() jose.JSONWebKeySet
}

// Professional is an application of an institution, logged in to verify proofs.
type Professional struct {
	ClientID, Institution string
}

type professional = Professional

// ProLogin checks an application's client credentials (the hub's OAuth2 server, with its
// limits on failed attempts) and returns who it is.
type ProLogin func(ctx context.Context, clientID, secret, from string) (Professional, error)

// Source is a built-in source whose data a citizen sees under "my data".
type Source struct {
	Service string // the directory's service id
	Name    string
	// Page is the portal page that shows this source's data instead ("statuses": the
	// rights engine's decisions, explained there): the data page links to it and does
	// not read the source. "": read on the data page.
	Page string
}

// Config is what the portal runs on.
type Config struct {
	Exchange Exchange
	Audit    AuditLog
	Keys     Keys
	Pro      ProLogin
	Sources  []Source
	// Statuses computes a person's statuses; nil: RegistryStatuses over the sources'
	// social, disability and beneficiary services named in Registries.
	Statuses   Statuses
	Registries Registries
	// Rights plugs the rights engine's decisions in front of Statuses (nil: none).
	Rights *Rights
	// OIDC is the e-ID login; nil: none. OTP sends one-time codes; nil: no code login.
	OIDC *OIDC
	OTP  Sender
	// Names says whether a person is known and their name (the code login).
	Names Names
	// Issuer is the hub's public URL: the issuer of credentials and the base of redirects.
	Issuer string
	// Secure marks the cookies Secure (the hub is reached over TLS).
	Secure bool
	// DevIdP says the development identity provider is on: every page says so.
	DevIdP bool
	// Transparency feeds the public transparency page; nil: none.
	Transparency *Transparency
	// Benefits takes the granting bodies' reports (the professional page) and gives
	// the citizen those about them; nil: none.
	Benefits *benefits.Service
	// Admin feeds the operators' console (/portal/admin); nil: none.
	Admin *Admin
	Log   *slog.Logger
	Now   func() time.Time
}

// Portal serves the pages.
type Portal struct {
	cfg      Config
	secure   bool
	log      *slog.Logger
	now      func() time.Time
	sessions *sessions
	pages    map[string]*template.Template // by language
	mux      *http.ServeMux
	proofs   *proofs
	limits   *limits
	statuses Statuses
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New returns the portal.
func New(cfg Config) (*Portal, error) {
	if cfg.Exchange == nil || cfg.Audit == nil || cfg.Keys == nil {
		return nil, errors.New("portal: the exchange, the audit log and the keys are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	p := &Portal{cfg: cfg, secure: cfg.Secure, log: cfg.Log, now: cfg.Now, sessions: newSessions(cfg.Now),
		pages: map[string]*template.Template{}, proofs: newProofs(cfg.Now), limits: newLimits(cfg.Now)}
	p.statuses = cfg.Statuses
	if p.statuses == nil {
		p.statuses = &RegistryStatuses{Registries: cfg.Registries, Fetch: p.fetchRecords}
	}
	if cfg.Rights != nil && cfg.Rights.Explain != nil {
		p.statuses = &decided{rights: cfg.Rights, derived: p.statuses}
	}
	for _, l := range langs {
		t, err := template.New("").Funcs(funcs(l)).Funcs(template.FuncMap{"status": func(id string) string { return p.statusName(l, id) }}).ParseFS(templateFS, "templates/*.html")
		if err != nil {
			return nil, err
		}
		p.pages[l] = t
	}
	p.routes()
	return p, nil
}

func (p *Portal) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /portal/static/", http.StripPrefix("/portal/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /portal/{$}", p.handle(p.home))
	m.HandleFunc("GET /portal/login/eid", p.handle(p.eidStart))
	m.HandleFunc("GET /portal/login/callback", p.handle(p.eidCallback))
	m.HandleFunc("POST /portal/login/code", p.form(p.codeSend))
	m.HandleFunc("POST /portal/login/code/check", p.form(p.codeCheck))
	m.HandleFunc("POST /portal/logout", p.form(p.logout))
	m.HandleFunc("GET /portal/statuses", p.citizen(p.statusPage))
	m.HandleFunc("GET /portal/data", p.citizen(p.dataPage))
	m.HandleFunc("GET /portal/consultations", p.citizen(p.consultations))
	m.HandleFunc("GET /portal/consultations/{seq}/evidence", p.citizen(p.evidence))
	m.HandleFunc("GET /portal/proof", p.citizen(p.proofPage))
	m.HandleFunc("POST /portal/proof", p.citizenForm(p.proofCreate))
	m.HandleFunc("GET /portal/proof/qr.png", p.citizen(p.proofQR))
	m.HandleFunc("GET /portal/pro", p.handle(p.proPage))
	m.HandleFunc("GET /portal/transparency", p.handle(p.transparency))
	m.HandleFunc("GET /portal/admin", p.handle(p.adminPage))
	m.HandleFunc("POST /portal/admin/login", p.form(p.adminLogin))
	m.HandleFunc("POST /portal/admin/retry", p.form(p.adminRetry))
	m.HandleFunc("POST /portal/pro/login", p.form(p.proLogin))
	m.HandleFunc("POST /portal/pro/verify", p.form(p.proVerify))
	m.HandleFunc("POST /portal/pro/benefit", p.form(p.proBenefit))
	m.HandleFunc("GET /portal/admin/charts/{chart}", p.handle(p.adminChart))
	m.HandleFunc("/portal/", p.handle(func(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
		return pageErr(http.StatusNotFound, "error.notfound", nil)
	}))
	p.mux = m
}

// csp allows the portal's own script, styles and images (the QR code is an image of
// its own), nothing inline, no framing, forms to itself only.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP sets the security headers on every answer, then routes.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
	h.Set("Cache-Control", "no-store")
	if p.secure {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	p.mux.ServeHTTP(w, r)
}

// handler is a page: it returns its error to the adapter, which renders it.
type handler func(w http.ResponseWriter, r *http.Request, ss *session, lang string) error

// handle runs h with the request's session (one request of a session at a time: the
// session's state is changed without further locks).
func (p *Portal) handle(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang := Lang(w, r)
		ss, _ := p.session(w, r)
		ss.mu.Lock()
		defer ss.mu.Unlock()
		if err := h(w, r, ss, lang); err != nil {
			p.fail(w, r, ss, lang, err)
		}
	}
}

// form is handle for a POST: the form's CSRF token must be the session's, and a browser
// saying the request comes from another site is refused.
func (p *Portal) form(h handler) http.HandlerFunc {
	return p.handle(func(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			return pageErr(http.StatusBadRequest, "error.csrf", err)
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
			return pageErr(http.StatusForbidden, "error.crosssite", errors.New("cross-site form"))
		}
		if !sameToken(r.PostForm.Get("csrf"), ss.CSRF) {
			return pageErr(http.StatusForbidden, "error.csrf", errors.New("CSRF token missing or wrong"))
		}
		return h(w, r, ss, lang)
	})
}

// citizen is handle for the pages of a logged-in citizen: anyone else goes to the login.
func (p *Portal) citizen(h handler) http.HandlerFunc {
	return p.handle(func(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
		if ss.Person == "" {
			http.Redirect(w, r, Prefix, http.StatusSeeOther)
			return nil
		}
		return h(w, r, ss, lang)
	})
}

func (p *Portal) citizenForm(h handler) http.HandlerFunc {
	return p.form(func(w http.ResponseWriter, r *http.Request, ss *session, lang string) error {
		if ss.Person == "" {
			http.Redirect(w, r, Prefix, http.StatusSeeOther)
			return nil
		}
		return h(w, r, ss, lang)
	})
}

// pageError is an error with the status and the text (a message key) a page shows.
type pageError struct {
	status int
	key    string
	cause  error
}

func (e *pageError) Error() string {
	if e.cause != nil {
		return e.key + ": " + e.cause.Error()
	}
	return e.key
}
func (e *pageError) Unwrap() error { return e.cause }

func pageErr(status int, key string, cause error) error { return &pageError{status, key, cause} }

// fail renders err's page; the cause goes to the log, never to the page.
func (p *Portal) fail(w http.ResponseWriter, r *http.Request, ss *session, lang string, err error) {
	pe := &pageError{status: http.StatusInternalServerError, key: "error.unavailable", cause: err}
	if !errors.As(err, &pe) {
		switch fault.KindOf(err) {
		case fault.Forbidden, fault.Unauthorized:
			pe = &pageError{http.StatusForbidden, "error.login", err}
		case fault.Invalid:
			pe = &pageError{http.StatusBadRequest, "error.unavailable", err}
		}
	}
	lvl := slog.LevelInfo
	if pe.status >= 500 {
		lvl = slog.LevelError
	}
	// The route, not the path: a path typed by anyone may hold a person number.
	p.log.Log(r.Context(), lvl, "portal", "route", r.Pattern, "status", pe.status, "err", err)
	w.WriteHeader(pe.status)
	p.render(w, r, ss, lang, "error", map[string]any{"Key": pe.key}, true)
}

// view is what every page's template gets.
type view struct {
	Lang, Other string
	CSRF        string
	Name        string
	Citizen     bool
	Pro         *Professional
	Admin       string
	DevIdP      bool
	EID, Code   bool // the login paths on offer
	Page        string
	Data        any
}

// render executes page name; written says the status line was already sent.
func (p *Portal) render(w http.ResponseWriter, r *http.Request, ss *session, lang, name string, data any, written ...bool) {
	other := "fr"
	if lang == "fr" {
		other = "en"
	}
	v := view{Lang: lang, Other: other, CSRF: ss.CSRF, Name: ss.Name, Citizen: ss.Person != "", Pro: ss.Pro, Admin: ss.Admin,
		DevIdP: p.cfg.DevIdP, EID: p.cfg.OIDC != nil, Code: p.cfg.OTP != nil, Page: name, Data: data}
	var buf bytes.Buffer
	if err := p.pages[lang].ExecuteTemplate(&buf, name+".html", v); err != nil {
		p.log.Error("portal: render", "page", name, "err", err)
		if len(written) == 0 {
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

func funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"t":        func(key string) string { return T(lang, key) },
		"upper":    strings.ToUpper,
		"recorded": recorded,
		"status":   func(id string) string { return StatusName(lang, id) },
	}
}

// StatusName is the name of a status id in lang ("programme:<name>" names the programme).
func StatusName(lang, id string) string {
	if name, ok := strings.CutPrefix(id, "programme:"); ok {
		return T(lang, "status.programme") + " " + name
	}
	switch id {
	case "vulnerable", "disabled":
		return T(lang, "status."+id)
	}
	return id
}
