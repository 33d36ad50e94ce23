// Package httpapi is the HTTP face of the hub: health and readiness, metrics, the public
// list of authorizations, and the admin API of the reference directory. Handlers return
// errors; one adapter writes them, using one table from error kinds to statuses.
package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/crossroads-hub/crossroads/internal/answer"
	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/benefits"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/events"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/metrics"
	"github.com/crossroads-hub/crossroads/internal/mutations"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/rightsfacts"
)

// Deps are what the server needs.
type Deps struct {
	Directory  *directory.Directory
	Population population.Store // the built-in civil register, for the nation summary
	Ledger     ident.Ledger     // its ledger of issued numbers, for births
	// Ready reports whether the stores are reachable and migrated.
	Ready   func(ctx context.Context) error
	Log     *slog.Logger
	Version string
	// The exchange (nil: the exchange routes are not served).
	OAuth    *oauth.Server
	Keys     *oauth.KeySet
	Exchange *exchange.Exchange
	// ServiceFor names the service answering a registry type ("civil"), or the one the
	// request's receiver_id names.
	ServiceFor func(registry, receiverID string) string
	// DCIPrefix is where the DCI registries are mounted; default "/dci", "/" for the root.
	DCIPrefix string
	// Builtins are the built-in sources, served over DCI to the hub itself.
	Builtins map[string]exchange.Source
	// Audit is the exchange log; AuditKey gives the verifier key of its checkpoints.
	Audit    *audit.Log
	AuditKey func() (string, error)
	// AuditKeys gives the key history: every key that signed the log's checkpoints,
	// with the sizes of those it signed, so that evidence signed before a rotation
	// stays verifiable (nil: none published).
	AuditKeys func() ([]audit.KeyPeriod, error)
	// Async answers the asynchronous DCI calls (stores them, answers and delivers their
	// callbacks); nil: the asynchronous endpoints are not served.
	Async *answer.Worker
	// Events reports on the delivery of mutations (nil: the routes are not served).
	Events Events
	// SourceCallbacks takes the callbacks of asynchronous sources (on-search, …) for the
	// calls waiting for them; nil: every such callback is refused.
	SourceCallbacks CallbackSink
	// Registry collects metrics; a fresh one is made when nil.
	Registry *metrics.Registry
	// Employment is the employment source the employer channel declares to (nil: the
	// /declarations routes are not served).
	Employment *employment.Source
	// Uploads is the minimum rate of request bodies; zero: none.
	Uploads Uploads
	// Messages is the memory of synchronous message ids shared by the hub's replicas;
	// nil: this process's memory alone (recent.go).
	Messages UsedOnce
	// RecentMessages bounds this process's memory of synchronous message ids: ids in
	// each of its two generations (0: recentMax, about 20 MB a generation).
	RecentMessages int
	// Sizes are more in-memory structures to show on /metrics, by gauge name (the
	// wiring's: the audit log's dictionary, its queue…).
	Sizes map[string]Size
	// Rights serves the rights engine's decisions (#19); nil: /persons/… and
	// /stats/rights are not served.
	Rights *rightsfacts.Access
	// Benefits takes the reports of the benefits granting bodies granted (#20); nil:
	// POST /benefits is not served.
	Benefits *benefits.Service
}

// Events is the delivery of mutations, as operators see it.
type Events interface {
	Status(ctx context.Context) (events.Status, error)
	Tail(ctx context.Context) <-chan []byte // JSON lines until ctx ends
	// Dead lists copies set aside ("": of every subscription); Retry sends a
	// subscription's again.
	Dead(ctx context.Context, subscription string, limit int) ([]json.RawMessage, error)
	Retry(ctx context.Context, subscription string) (int, error)
	// Next and Ack are the pull delivery of a subscription's copies.
	Next(ctx context.Context, subscription string, max int, wait time.Duration) ([]json.RawMessage, error)
	// Ack returns how many it acknowledged and the keys it did not know.
	Ack(ctx context.Context, subscription string, keys []string) (int, []string, error)
	// Deliveries is the last outcome of each copy of a change, or, with one, of the copy
	// whose key is id.
	Deliveries(ctx context.Context, id string, one bool) ([]json.RawMessage, error)
	// Ingest takes a change a remote source notified, to be routed like the register's.
	Ingest(ctx context.Context, m mutations.Mutation) error
}

// Server serves the hub's HTTP API.
type Server struct {
	dir     *directory.Directory
	pop     population.Store
	ledger  ident.Ledger
	ready   func(ctx context.Context) error
	log     *slog.Logger
	version string
	started time.Time
	metrics *httpMetrics
	reg     *metrics.Registry
	uploads Uploads
	handler http.Handler

	oauth           *oauth.Server
	keys            *oauth.KeySet
	exchange        *exchange.Exchange
	serviceFor      func(registry, receiverID string) string
	dciPrefix       string
	builtins        map[string]exchange.Source
	audit           *audit.Log
	auditKey        func() (string, error)
	auditKeys       func() ([]audit.KeyPeriod, error)
	async           *answer.Worker
	recent          recent // message ids of recent synchronous searches
	messages        UsedOnce
	events          Events
	sourceCallbacks CallbackSink
	employment      *employment.Source
	rights          *rightsfacts.Access
	benefits        *benefits.Service

	// sourceTokens caches verified source tokens (the hub presents the same one for
	// minutes); entries are few, one per token minted, and expire with it.
	sourceTokens sync.Map
	signers      signers

	// streams ends when the server shuts down: the long-lived answers watch it.
	streams    context.Context
	endStreams context.CancelFunc
}

// NewServer builds the handler with every route.
func NewServer(d Deps) *Server {
	reg := d.Registry
	if reg == nil {
		reg = metrics.NewRegistry()
		reg.RegisterRuntime()
	}
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{dir: d.Directory, pop: d.Population, ledger: d.Ledger, ready: d.Ready, log: log, uploads: d.Uploads,
		version: d.Version, started: time.Now(), metrics: newMetrics(reg), reg: reg,
		oauth: d.OAuth, keys: d.Keys, exchange: d.Exchange, serviceFor: d.ServiceFor, dciPrefix: d.DCIPrefix,
		builtins: d.Builtins, messages: d.Messages, audit: d.Audit, auditKey: d.AuditKey, auditKeys: d.AuditKeys, async: d.Async, events: d.Events, sourceCallbacks: d.SourceCallbacks,
		employment: d.Employment, rights: d.Rights, benefits: d.Benefits}
	s.recent.max = d.RecentMessages
	s.registerSizes(d.Sizes)
	s.streams, s.endStreams = context.WithCancel(context.Background())
	s.dciPrefix = MountPrefix(s.dciPrefix)
	mux := http.NewServeMux()
	s.routes(mux)
	s.handler = s.observe(unmatched(mux))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// senderIdleTimeout is how long the hub keeps an idle connection to a partner it posts
// to (callbacks, pushes): long enough to carry a burst of messages on one connection,
// short enough that a receiver shutting down is not kept waiting by the hub's keep-alive.
const senderIdleTimeout = time.Second

// NewSenderClient is the client the hub posts callbacks and pushes with: it follows no
// redirect (the hub posts only to URLs it checked), keeps a connection per lane of every
// subscriber on one host (the default keeps two a host), and closes idle connections
// after senderIdleTimeout, and connects only to addresses directory.Dialable allows,
// checked after the name is resolved (a name may resolve to the metadata service). Each
// request carries its own timeout.
func NewSenderClient() *http.Client { return checkedClient(senderIdleTimeout) }

// NewSourceClient is the client the hub asks remote sources with: as NewSenderClient (no
// redirect, only addresses directory.Dialable allows), but idle connections are kept as
// long as Go's default, since the hub asks its sources all the time.
func NewSourceClient() *http.Client {
	return checkedClient(http.DefaultTransport.(*http.Transport).IdleConnTimeout)
}

func checkedClient(idle time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: dialControl}
	t.DialContext = d.DialContext
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = idle
	return &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// dialControl refuses to connect to an address directory.Dialable refuses; it runs once
// the address is resolved, before the connection is made.
func dialControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refused to connect to %s: not an address", address)
	}
	if err := directory.Dialable(ap.Addr().Unmap()); err != nil {
		return fmt.Errorf("refused to connect to %s: %w", address, err)
	}
	return nil
}

// MountPrefix is where the DCI registries are mounted for a configured prefix: "/dci"
// by default, "" for "/" (the registries at the root: /crvs/registry/…).
func MountPrefix(prefix string) string {
	switch prefix {
	case "":
		return "/dci"
	case "/":
		return ""
	}
	return prefix
}
