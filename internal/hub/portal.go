package hub

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/benefits"
	"github.com/crossroads-hub/crossroads/internal/devidp"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/events"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/metrics"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/portal"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// PortalConfig is the citizen and professional portal's (/portal/).
type PortalConfig struct {
	// OIDCIssuer is the national e-ID provider (OpenID Connect); "": none, unless DevIdP.
	OIDCIssuer, OIDCClientID string
	// OIDCKeyFile holds the portal's private JWK (Ed25519 or P-256) for private_key_jwt.
	OIDCKeyFile string
	// DevIdP serves the development identity provider at /devidp/ and logs in with it:
	// anyone can log in as anyone. On in the demo; off in serve unless --dev-idp.
	DevIdP bool
	// CodeToLog offers the one-time-code login with codes written to the log (demo).
	CodeToLog bool
}

// portalParts are what the hub's Serve made that the portal shows or uses.
type portalParts struct {
	benefits *benefits.Service
	charts   *metrics.Ring // the console's charts; nil: none
	// observe counts and logs the portal's requests with the API's (nil: not counted).
	observe func(http.Handler) http.Handler
}

// latestCheckpoints reads the n latest checkpoints of the audit store, newest first:
// the store lists them by size from a size on, so the window looked at doubles until it
// holds n or reaches the start.
func latestCheckpoints(ctx context.Context, s audit.Store, n int) ([]audit.StoredCheckpoint, error) {
	last, err := s.LatestCheckpoint(ctx)
	if fault.KindOf(err) == fault.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for window := int64(1024); ; window *= 2 {
		after := max(last.Size-window, 0)
		cps, err := s.Checkpoints(ctx, after, 1000)
		if err != nil {
			return nil, err
		}
		if len(cps) >= n || after == 0 || len(cps) == 1000 {
			cps = cps[max(len(cps)-n, 0):]
			slices.Reverse(cps)
			return cps, nil
		}
	}
}

// charts samples the hub's HTTP counters for the console every chartEvery, keeping
// chartSamples of them (ten minutes).
type charts struct {
	ring *metrics.Ring
	stop func()
}

const (
	chartEvery   = 5 * time.Second
	chartSamples = 120
)

func startCharts(ctx context.Context, reg *metrics.Registry) charts {
	ring := metrics.NewRing(chartSamples)
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		ring.Run(cctx, chartEvery, func() metrics.Sample { return reg.HTTPSample(time.Now()) })
	}()
	return charts{ring: ring, stop: func() { cancel(); <-done }}
}

// portalClientID is the portal's client id at the development identity provider.
const portalClientID = "crossroads-portal"

// withPortal mounts the portal under /portal/ (and the development identity provider
// under /devidp/ when asked) in front of next.
func withPortal(cfg Config, st *Stores, x *stack, ev *events.Pipeline, parts portalParts, publicURL string, next http.Handler, log *slog.Logger) (http.Handler, error) {
	pc := cfg.Portal
	ex, persons := x.exchange, portalPersons{st.Civil.Population()}
	pcfg := portal.Config{Exchange: ex, Audit: x.audit, Keys: x.keys, Issuer: publicURL, Log: log,
		Secure: strings.HasPrefix(publicURL, "https://"), DevIdP: pc.DevIdP,
		Registries: portal.Registries{Social: synth.SocialMember, Disability: synth.DisabilityStatus, Beneficiary: synth.BeneficiaryEnrolment},
		Pro:        proLogin(x.oauth), Rights: portalRights(x, st), Benefits: parts.benefits}
	if key, err := x.verifierKey(); err == nil {
		pcfg.Transparency = &portal.Transparency{VerifierKey: key, Checkpoint: x.audit.Checkpoint, Cosignatures: x.audit.Cosignatures,
			KeyHistory: func() ([]audit.KeyPeriod, error) { return x.keyHistory(cfg.KeyFile) },
			Authorizations: func(ctx context.Context) ([]directory.Authorization, error) {
				return all[directory.Authorization](ctx, st.Directory)
			}}
	}
	pcfg.Admin = portalAdmin(st, ev)
	pcfg.Admin.Authorizations = func(ctx context.Context) ([]directory.Authorization, error) {
		return all[directory.Authorization](ctx, st.Directory)
	}
	pcfg.Admin.Subscriptions = func(ctx context.Context) ([]directory.Subscription, error) {
		return all[directory.Subscription](ctx, st.Directory)
	}
	pcfg.Admin.Checkpoints = func(ctx context.Context, n int) ([]audit.StoredCheckpoint, error) {
		return latestCheckpoints(ctx, st.Hub.Audit(), n)
	}
	pcfg.Admin.Metrics = parts.charts
	svcs, err := all[directory.Service](context.Background(), st.Directory)
	if err != nil {
		return nil, err
	}
	pcfg.Sources = portalSources(svcs, x.sources.builtins)
	mux := http.NewServeMux()
	redirect := publicURL + portal.Prefix + "login/callback"
	switch {
	case pc.DevIdP:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		key := jose.JSONWebKey{Key: priv, KeyID: "portal", Algorithm: string(jose.EdDSA)}
		idp, err := devidp.New(devidp.Config{Issuer: publicURL + "/devidp", Persons: persons, Log: log,
			Clients: []devidp.Client{{ID: portalClientID, RedirectURIs: []string{redirect}, Key: key.Public()}}})
		if err != nil {
			return nil, err
		}
		mux.Handle(devidp.Prefix, idp)
		pcfg.OIDC = &portal.OIDC{Issuer: publicURL + "/devidp", ClientID: portalClientID, Key: key, RedirectURL: redirect}
		log.Warn("the DEVELOPMENT identity provider is on: anyone can log in to the portal as anyone", "at", publicURL+"/devidp")
	case pc.OIDCIssuer != "":
		key, err := readJWK(pc.OIDCKeyFile)
		if err != nil {
			return nil, err
		}
		if pc.OIDCClientID == "" {
			return nil, fmt.Errorf("--oidc-client-id is required with --oidc-issuer")
		}
		pcfg.OIDC = &portal.OIDC{Issuer: pc.OIDCIssuer, ClientID: pc.OIDCClientID, Key: key, RedirectURL: redirect}
	}
	if pc.CodeToLog {
		pcfg.OTP, pcfg.Names = portal.LogSender{Log: log}, persons.Name
	}
	p, err := portal.New(pcfg)
	if err != nil {
		return nil, err
	}
	var ph http.Handler = p
	if parts.observe != nil {
		ph = parts.observe(p)
	}
	mux.Handle(portal.Prefix, ph)
	mux.Handle("/portal", http.RedirectHandler(portal.Prefix, http.StatusMovedPermanently))
	mux.Handle("/", next)
	return mux, nil
}

// portalSources are the built-in sources a citizen sees on "my data": each that holds
// records about persons, read there through the exchange as the person. The rights
// engine's decisions are not read by a search (rightsSource): the data page links to
// the statuses page, which explains them. A service whose built-in source does not
// exist holds no records (the social risks' services name where declarations are routed;
// the declarations are in the employment source's record) and is not listed.
func portalSources(svcs []directory.Service, builtins map[string]exchange.Source) []portal.Source {
	var out []portal.Source
	for _, s := range svcs {
		name, ok := strings.CutPrefix(s.Endpoint, "builtin:")
		switch {
		case !ok || builtins[name] == nil:
		case name == rightsBuiltin:
			out = append(out, portal.Source{Service: s.ID, Name: s.Name, Page: "statuses"})
		default:
			out = append(out, portal.Source{Service: s.ID, Name: s.Name})
		}
	}
	return out
}

// portalAdmin is what the operators' console reads, and its retry.
func portalAdmin(st *Stores, ev *events.Pipeline) *portal.Admin {
	a := &portal.Admin{
		Check: func(ctx context.Context, token string) (string, error) { return st.Directory.Admin(ctx, token) },
		Counts: func(ctx context.Context) (map[string]int, error) {
			out := map[string]int{}
			for _, k := range []directory.Kind{directory.KindInstitution, directory.KindApplication, directory.KindService,
				directory.KindAuthorization, directory.KindSubscription} {
				n, err := countRecords(ctx, st.Directory, k)
				if err != nil {
					return nil, err
				}
				out[string(k)] = n
			}
			return out, nil
		},
	}
	if ev == nil {
		return a
	}
	a.Dead, a.Retry = ev.Dead, ev.Retry
	a.Deliveries = func(ctx context.Context) (portal.DeliveryStatus, error) {
		s, err := ev.Status(ctx)
		out := portal.DeliveryStatus{Changes: s.Changes, Routed: s.Routed, Withheld: s.Withheld, Delivered: s.Delivered, Failed: s.Failed}
		for _, sub := range s.Subscriptions {
			out.Subscriptions = append(out.Subscriptions, portal.SubscriptionState{Subscription: sub.Subscription, Endpoint: sub.Endpoint,
				Pending: sub.Pending, InFlight: sub.InFlight, Redelivered: sub.Redelivered})
		}
		return out, err
	}
	return a
}

// readJWK reads the portal's private key for private_key_jwt.
func readJWK(path string) (jose.JSONWebKey, error) {
	var k jose.JSONWebKey
	if path == "" {
		return k, fmt.Errorf("--oidc-key is required with --oidc-issuer: the portal's private JWK (Ed25519 or P-256)")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return k, err
	}
	if err := json.Unmarshal(b, &k); err != nil || k.IsPublic() || !k.Valid() {
		return k, fmt.Errorf("%s: not a private JWK", path)
	}
	return k, nil
}

// proLogin logs a verifier's application in with its client credentials, through the
// hub's OAuth2 server (its limits on failed authentications apply).
func proLogin(s *oauth.Server) portal.ProLogin {
	return func(ctx context.Context, clientID, secret, from string) (portal.Professional, error) {
		form := url.Values{"grant_type": {oauth.GrantClientCredentials}, "client_id": {clientID}, "client_secret": {secret}}
		tok, err := s.Token(ctx, form, "", "", from)
		if err != nil {
			return portal.Professional{}, err
		}
		c, err := s.Verify(ctx, tok.AccessToken)
		if err != nil {
			return portal.Professional{}, err
		}
		return portal.Professional{ClientID: c.ClientID, Institution: c.Institution}, nil
	}
}

// portalPersons finds persons in the civil register, for the development identity
// provider and the code login.
type portalPersons struct{ store population.Store }

func (p portalPersons) Name(ctx context.Context, person string) (string, bool, error) {
	rec, err := p.store.Person(ctx, person)
	if fault.KindOf(err) == fault.NotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if !rec.DeathDate.IsZero() {
		return "", false, nil
	}
	return rec.GivenName + " " + rec.FamilyName, true, nil
}

func (p portalPersons) Sample(ctx context.Context, n int) ([]devidp.Person, error) {
	ps, err := p.store.Persons(ctx, population.Query{Limit: n * 4})
	if err != nil {
		return nil, err
	}
	var out []devidp.Person
	for _, rec := range ps {
		if rec.DeathDate.IsZero() && len(out) < n {
			out = append(out, devidp.Person{Number: rec.Number, Name: rec.GivenName + " " + rec.FamilyName})
		}
	}
	return out, nil
}

// countRecords counts the directory's records of kind, a page at a time.
func countRecords(ctx context.Context, d *directory.Directory, kind directory.Kind) (int, error) {
	n, q := 0, directory.ListQuery{Limit: 1000}
	for {
		recs, err := d.Store().ListRecords(ctx, kind, q)
		if err != nil {
			return 0, err
		}
		if len(recs) == 0 { // the store may cap a page below the limit asked
			return n, nil
		}
		n += len(recs)
		q.After = recs[len(recs)-1].Key
	}
}
