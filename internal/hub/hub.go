// Package hub wires the stores, the directory and the HTTP server into a running hub,
// for both `crossroads demo` (embedded SQLite in a data folder, a synthetic nation on
// first start) and `crossroads serve` (stores named by DSN).
package hub

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/answer"
	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/conns"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/httpapi"
	"github.com/crossroads-hub/crossroads/internal/lease"
	"github.com/crossroads-hub/crossroads/internal/metrics"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/perm"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// Config says where the hub listens and keeps its data.
type Config struct {
	Addr    string // listen address, e.g. 127.0.0.1:8080 (":0" picks a free port)
	Store   string // DSN of the hub's store: sqlite:PATH or postgres://…
	Civil   string // DSN of the built-in civil register; "" means the hub's store
	Log     *slog.Logger
	Out     io.Writer // where the hub tells a person what it started
	Version string
	// OnAdminToken receives the bootstrap administrator token when it is created (first
	// start); the default prints it to Out.
	OnAdminToken func(token string) error
	// DCIPrefix is where the DCI registries are mounted: {prefix}/{crvs|sr|ibr|dr|fr}/registry/…;
	// "" is /dci, "/" the root.
	DCIPrefix string
	// PublicURL is where clients reach the hub when that is not the address it listens on
	// (behind a proxy or a load balancer): the issuer of its tokens, the audience of client
	// assertions, and the base of the callback URL it gives asynchronous sources. "": the
	// listening address.
	PublicURL string
	// NATS is the event bus: "" an embedded JetStream (files in NATSDir, by default beside
	// an SQLite store, else ./crossroads-nats), or nats://… an external server or cluster.
	NATS, NATSDir string
	// DeliveryMaxAge is how long a change is retried to a subscriber before it is set
	// aside (dead letters, GET /admin/events/dead); 0: 24 h.
	DeliveryMaxAge time.Duration
	// Callbacks delivers the answers of asynchronous calls and the pushes of events; nil:
	// httpapi.NewSenderClient (idle connections closed after a second). It never follows
	// redirects (a copy is made to ensure it).
	Callbacks *http.Client
	// OnReady is called with the base URL once the hub serves.
	OnReady func(url string)
	// Durability is what an exchange's audit record survives once the exchange is
	// answered: the crash of the process (the default) or the loss of power (the audit
	// journal synced before each acknowledgement, an SQLite store at synchronous=FULL).
	Durability audit.Durability
	// Witnesses are the verifier keys of the witnesses whose cosigned checkpoints the hub
	// takes (POST /audit/cosignatures) and serves with its own.
	Witnesses []string
	// KeyFile holds the hub's signing keys (created if missing, mode 0600); "" keeps
	// them in memory only.
	KeyFile string
	// G2P serves the demo's delivery chain of the old-age allowance under /g2p/ (#21:
	// the SP-MIS, the demo bank and its store beside the hub's, the SMS outbox), and the
	// demo's receiver, where the SP-MIS's push subscription to deaths is pointed; the
	// demo sets it.
	G2P bool
	// BuiltinOverHTTP makes the hub reach its built-in sources over HTTP, as remote ones:
	// at SourceURLs[name] when set (a server answering DCI search for that source at
	// <url>/registry/sync/search), otherwise at the hub's own /sources/{name}.
	BuiltinOverHTTP bool
	SourceURLs      map[string]string
	// RefreshEvery is how often the policy and index pick up changes made elsewhere.
	RefreshEvery time.Duration
	// Limits bound each client's expensive questions (searches by filter, batch
	// consultations); nil: exchange.DefaultLimits.
	Limits *exchange.Limits
	// Guesses limit failed client authentications (zero fields: oauth's defaults).
	Guesses oauth.GuessLimits
	// Replicas is how many replicas of the hub share the store and the clients (behind
	// one load balancer): each enforces its share (1/Replicas) of Limits and Guesses, so
	// that together they allow a client what one hub would (docs/ARCHITECTURE.md,
	// "Running several replicas"). 0 or 1: one hub.
	Replicas int
	// Conns caps the connections open at once, from one remote address (0: no cap) and in
	// all (0: conns.DefaultTotal of the open-file limit); nil: conns.DefaultPerAddress
	// and that total.
	Conns *conns.Limits
	// Uploads is the minimum rate of request bodies (Rate 0: none); nil:
	// httpapi.DefaultUploads.
	Uploads *httpapi.Uploads
	// Portal configures the citizen and professional portal (/portal/, portal.go).
	Portal PortalConfig
	// RecentMessages bounds the memory of synchronous message ids (httpapi.Deps).
	RecentMessages int

	// receiver serves the demo's receiver and points the nation's push subscriptions at
	// it (receiver.go); set by Demo.
	receiver bool
	// witnessDir is the folder of the demo's embedded witness (witness.go); set by Demo.
	witnessDir string
}

// noRedirects returns a copy of c that follows no redirect: the hub posts only to URLs
// it checked, and a redirect would take a callback or a push elsewhere.
func noRedirects(c *http.Client) *http.Client {
	if c == nil {
		return nil
	}
	cp := *c
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

func (c Config) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

// Stores are the opened databases of a hub.
type Stores struct {
	Hub, Civil *sqlstore.DB
	Directory  *directory.Directory
}

// Open opens (and migrates) the stores named in cfg. It first restricts the process's
// umask to 077, so that every file the hub and its libraries create from then on is its
// user's only (package perm), and warns when a data folder is open to other users.
func Open(ctx context.Context, cfg Config) (*Stores, error) {
	perm.Restrict()
	st, err := open(ctx, cfg)
	if err == nil {
		warnExposed(cfg)
	}
	return st, err
}

func open(ctx context.Context, cfg Config) (*Stores, error) {
	same := cfg.Civil == "" || cfg.Civil == cfg.Store
	if cfg.Durability == audit.PowerLoss {
		cfg.Store = syncFull(cfg.Store)
	}
	if same {
		db, err := sqlstore.Open(ctx, cfg.Store, sqlstore.Hub, sqlstore.Civil, sqlstore.Employment, sqlstore.Rights)
		if err != nil {
			return nil, err
		}
		return &Stores{Hub: db, Civil: db, Directory: directory.New(db.Directory(), nil)}, nil
	}
	hubDB, err := sqlstore.Open(ctx, cfg.Store, sqlstore.Hub)
	if err != nil {
		return nil, err
	}
	civil, err := sqlstore.Open(ctx, cfg.Civil, sqlstore.Civil, sqlstore.Employment, sqlstore.Rights)
	if err != nil {
		hubDB.Close()
		return nil, err
	}
	return &Stores{Hub: hubDB, Civil: civil, Directory: directory.New(hubDB.Directory(), nil)}, nil
}

// syncFull asks an SQLite store to commit at synchronous=FULL: the audit journal's
// records leave it once stored, so the store must keep them through a loss of power too.
func syncFull(dsn string) string {
	if !strings.HasPrefix(dsn, "sqlite:") || strings.Contains(dsn, "sync=") {
		return dsn
	}
	if strings.Contains(dsn, "?") {
		return dsn + "&sync=full"
	}
	return dsn + "?sync=full"
}

// Ready reports whether every store answers and is migrated.
func (s *Stores) Ready(ctx context.Context) error {
	if err := s.Hub.Ready(ctx); err != nil {
		return err
	}
	return s.Civil.Ready(ctx)
}

// Close closes the stores.
func (s *Stores) Close() error {
	err := s.Hub.Close()
	if s.Civil != s.Hub {
		err = errors.Join(err, s.Civil.Close())
	}
	return err
}

// reservedPaths are the hub's top-level path segments, which the DCI prefix may not take.
var reservedPaths = []string{"healthz", "readyz", "metrics", "public", "admin", "oauth2", ".well-known", "sources", "exchange", "audit", "openapi.json", "demo", "portal", "devidp", "g2p"}

// Serve runs the HTTP server on the opened stores until ctx ends, then shuts down
// gracefully: it stops accepting, ends the long-lived answers (events tails, pull
// subscriptions' waits) and lets the other requests in flight finish (shutdownGrace at
// most).
func Serve(ctx context.Context, cfg Config, st *Stores) error {
	log := cfg.log()
	setCollector()
	if p := cfg.DCIPrefix; p != "" && (!strings.HasPrefix(p, "/") || (p != "/" && strings.HasSuffix(p, "/")) || strings.ContainsAny(p, "{}? #%")) {
		return fmt.Errorf("--dci-prefix %q: must be a path such as /dci (starting with /, not ending with one)", p)
	} else if first, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/"); slices.Contains(reservedPaths, first) {
		return fmt.Errorf("--dci-prefix %q: /%s is the hub's own", p, first)
	}
	if u := cfg.PublicURL; u != "" {
		p, err := neturl.Parse(u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.User != nil || p.RawQuery != "" || p.Fragment != "" {
			return fmt.Errorf("--public-url %q: must be an absolute http(s) URL such as https://hub.example.org, without query or fragment", u)
		}
	}
	if cfg.Callbacks == nil { // one client for callbacks and pushes alike
		cfg.Callbacks = httpapi.NewSenderClient()
	}
	cfg.Callbacks = noRedirects(cfg.Callbacks)
	if err := ensureAdmin(ctx, cfg, st.Directory); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	ln = capConns(ln, cfg, log)
	url := "http://" + ln.Addr().String()
	x, err := startStack(ctx, cfg, st, url, cmp.Or(strings.TrimSuffix(cfg.PublicURL, "/"), url))
	if err != nil {
		ln.Close()
		return err
	}
	defer func() {
		if err := x.close(context.Background()); err != nil {
			log.Error("close the audit log", "err", err)
		}
	}()
	rctx, stopRefresh := context.WithCancel(ctx)
	defer stopRefresh()
	every := cfg.RefreshEvery
	if every == 0 {
		every = 2 * time.Second
	}
	go x.refresh(rctx, every)
	if cfg.witnessDir != "" {
		keys, err := x.verifierKeys(cfg.KeyFile)
		if err != nil {
			return err
		}
		stopWitness, err := runWitness(ctx, cfg.witnessDir, keys, x.audit, log)
		if err != nil {
			return fmt.Errorf("start the demo's witness: %w", err)
		}
		defer stopWitness() // before the audit log closes
	}
	if cfg.receiver || cfg.G2P { // the delivery chain's SP-MIS takes its pushes there
		n, err := pointAtReceiver(ctx, st.Directory, url+receiverPath)
		if err != nil {
			return err
		}
		if n > 0 {
			log.Info("push subscriptions pointed at the demo's receiver", "subscriptions", n, "receiver", url+receiverPath)
		}
	}
	reg := metrics.NewRegistry()
	reg.RegisterRuntime()
	ev, stopEvents, err := startEvents(ctx, cfg, st, x, reg)
	if err != nil {
		return fmt.Errorf("start the event bus: %w", err)
	}
	defer stopEvents() // before the audit log closes
	rightsAccess, stopRights := startRights(ctx, x, st, log)
	defer stopRights() // before the audit log closes
	oa, keys, ex, builtins := x.deps()
	reports := benefitsService(x, st)
	worker := answer.New(answer.Config{Txns: st.Hub.Txns(), Exchange: ex, Directory: st.Directory, Keys: keys,
		ServiceFor: x.serviceFor, Client: cfg.Callbacks, Log: log})
	api := httpapi.NewServer(httpapi.Deps{Directory: st.Directory, Population: st.Civil.Population(), Ledger: st.Civil.Ledger(),
		Ready: st.Ready, Log: log, Version: cfg.Version, OAuth: oa, Keys: keys, Exchange: ex,
		ServiceFor: x.serviceFor, Builtins: builtins, Audit: x.audit, AuditKey: x.verifierKey, AuditKeys: func() ([]audit.KeyPeriod, error) { return x.keyHistory(cfg.KeyFile) },
		Async: worker, DCIPrefix: cfg.DCIPrefix, Events: ev, Registry: reg,
		SourceCallbacks: x.sources.callbacks, Employment: employmentSource(st, x.mandates), Uploads: uploads(cfg), Messages: claims(st),
		RecentMessages: cfg.RecentMessages, Sizes: memorySizes(st), Rights: rightsAccess, Benefits: reports})
	if n, err := api.RememberRecent(ctx); err != nil {
		log.Warn("remember recent messages from the audit log", "err", err)
	} else if n > 0 {
		log.Info("recent messages remembered from the audit log", "messages", n)
	}
	// The asynchronous worker stops after the server and before the audit log closes.
	// One replica of the hub runs it at a time (the lease "async"); any replica accepts.
	wctx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	workerDone := make(chan struct{})
	go func() { defer close(workerDone); lease.Run(wctx, st.Hub.Leases(), "async", log, worker.Run) }()
	defer func() { stopWorker(); <-workerDone }()
	charts := startCharts(ctx, reg)
	defer charts.stop()
	handler, err := withPortal(cfg, st, x, ev, portalParts{benefits: reports, charts: charts.ring, observe: api.Observe},
		cmp.Or(strings.TrimSuffix(cfg.PublicURL, "/"), url), api, log)
	if err != nil {
		return fmt.Errorf("start the portal: %w", err)
	}
	if cfg.receiver || cfg.G2P {
		mux := http.NewServeMux()
		rc := newReceiver(keys, log)
		mux.Handle(receiverPath, rc)
		mux.Handle(strings.TrimSuffix(receiverPath, "/"), rc)
		if cfg.G2P { // the demo's delivery chain (#21): the SP-MIS, the demo bank, the SMS outbox
			g, err := demoG2P(ctx, cfg, st, x, log)
			if err != nil {
				return err
			}
			defer g.Close(context.Background())
			// The deaths the hub pushes to the SP-MIS end its rights between cycles; the
			// files of refused applicants are closed in batches, until the chain closes.
			rc.programmes = map[string]func(context.Context, []json.RawMessage) error{synth.SPMIS: programmeDeaths(g.Service, log)}
			cctx, stopCloser := context.WithCancel(ctx)
			closerDone := make(chan struct{})
			go func() { defer close(closerDone); closeRefusedEvery(cctx, g.Service, 5*time.Second, log) }()
			defer func() { stopCloser(); <-closerDone }()
			mux.Handle("/g2p/", api.G2P(httpapi.G2PDeps{Service: g.Service, Disburser: g.Disburser, Outbox: g.Outbox}))
		}
		mux.Handle("/", handler)
		handler = mux
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second, // a connection without a request is not held
		ReadTimeout:       5 * time.Minute, // batch uploads; bodies are also held to a minimum rate (Uploads)
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(api.EndStreams) // a tail or a long poll would hold the shutdown
	log.Info("serving", "url", url, "version", cfg.Version)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if cfg.OnReady != nil {
		cfg.OnReady(url)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	<-errc
	log.Info("stopped")
	return nil
}

// claims is the memory of ids used once (synchronous message ids, the jti of client
// assertions) the replicas of the hub share on PostgreSQL; nil on SQLite, which one
// process opens.
func claims(st *Stores) httpapi.UsedOnce {
	if st.Hub.Dialect() != sqlstore.Postgres {
		return nil
	}
	return st.Hub.Claims()
}

func uploads(cfg Config) httpapi.Uploads {
	if cfg.Uploads == nil {
		return httpapi.DefaultUploads
	}
	return *cfg.Uploads
}

// capConns raises the open-file limit as far as allowed and caps the connections ln
// accepts well below it, so that the hub can still accept (a health check, a token
// request) and open its own files while a client holds connections open.
func capConns(ln net.Listener, cfg Config, log *slog.Logger) net.Listener {
	files, err := conns.RaiseFileLimit()
	if err != nil {
		log.Warn("could not raise the open-file limit", "err", err.Error(), "limit", files)
	}
	l := conns.Limits{PerAddress: conns.DefaultPerAddress}
	if cfg.Conns != nil {
		l = *cfg.Conns
	}
	if l.Total <= 0 {
		l.Total = conns.DefaultTotal(files)
	}
	log.Info("connections capped", "per_address", l.PerAddress, "total", l.Total, "open_file_limit", files)
	return conns.Listen(ln, l)
}

// shutdownGrace is how long the requests in flight at shutdown have to finish.
const shutdownGrace = 10 * time.Second

func ensureAdmin(ctx context.Context, cfg Config, d *directory.Directory) error {
	token, created, err := d.EnsureAdmin(ctx)
	if err != nil || !created {
		return err
	}
	if cfg.OnAdminToken != nil {
		return cfg.OnAdminToken(token)
	}
	if cfg.Out != nil {
		fmt.Fprintf(cfg.Out, "Administrator token (shown once, keep it safe):\n  %s\n", token)
	}
	return nil
}

// gcPercent is the collector's target the hub runs with unless GOGC says otherwise. The
// hub's live heap is small (the person index holds no pointers) and its allocation rate
// high: at Go's default of 100 a collection runs every few hundred milliseconds under
// load, and each one's stop-the-world phases, waiting for a goroutine deep in the store's
// code, show in the look-ups' p99 while another client's filter runs (crossroads bench
// fairness: p99 loaded over alone 2.9 at 100, 1.5-1.8 at 400). GOMEMLIMIT, when set,
// still bounds the heap.
const gcPercent = 400

func setCollector() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
