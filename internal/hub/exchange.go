package hub

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/civil"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/dciclient"
	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/httpapi"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// stack is the exchange and everything it runs on.
type stack struct {
	keys     *oauth.KeySet
	oauth    *oauth.Server
	exchange *exchange.Exchange
	audit    *audit.Log
	index    *directory.Index
	sources  *sources
	dir      *directory.Directory
	log      *slog.Logger
	seen     map[directory.Kind]int64 // history seen, per kind that shapes the policy
	mandates *mandateCache            // the declarers' mandates (employment), as current as the policy

	reloading sync.Mutex // one reload of the policy at a time (the ticker, a change made here)
}

// startStack loads the keys, the person-directory index and the policy, opens the audit
// log, and assembles the exchange; baseURL is where the hub answers, publicURL where its
// clients and sources reach it.
func startStack(ctx context.Context, cfg Config, st *Stores, baseURL, publicURL string) (*stack, error) {
	keys, err := loadKeys(cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	x := &stack{keys: keys, dir: st.Directory, log: cfg.log(), index: directory.NewIndex(), seen: map[directory.Kind]int64{}}
	if err := x.index.Load(ctx, st.Directory.Store()); err != nil {
		return nil, fmt.Errorf("load the person directory: %w", err)
	}
	st.Directory.UseIndex(x.index)
	oc := oauth.Config{Issuer: publicURL, Directory: st.Directory, Keys: keys, Guesses: cfg.Guesses.PerReplica(cfg.Replicas)}
	if st.Hub.Dialect() == sqlstore.Postgres { // replicas share the jti of client assertions
		oc.UsedOnce = st.Hub.Claims()
	}
	x.oauth, err = oauth.NewServer(oc)
	if err != nil {
		return nil, err
	}
	x.audit, err = audit.Open(ctx, st.Hub.Audit(), func() (note.Signer, error) { return auditSigner(keys) }, audit.Config{Log: x.log, Journal: AuditJournal(cfg.Store), Published: AuditPublished(cfg.Store, cfg.KeyFile), Durability: cfg.Durability, Witnesses: cfg.Witnesses})
	if err != nil {
		return nil, fmt.Errorf("open the audit log: %w", err)
	}
	builtins := map[string]exchange.Source{"civil": &civil.Source{Store: st.Civil.Population(), Searcher: st.Civil.Searcher()}}
	for _, kind := range derived.Kinds {
		builtins[kind] = &derived.Source{Kind: kind, Store: st.Civil.Population(), Searcher: st.Civil.Searcher(), Today: st.Directory.Today,
			Aliases: map[string]string{synth.FixtureUIN: synth.FixtureNumber, synth.FixtureFarmerID: synth.FixtureNumber,
				synth.FixtureDRMember: synth.FixtureNumber}}
	}
	// The employment source (#18) answers through the hub like the others: a worker's
	// employment periods and wages.
	builtins[employment.SourceName] = &employment.Exchange{Store: st.Civil.Employment(), Today: st.Directory.Today}
	builtins[rightsBuiltin] = rightsSource{} // decisions are read through /persons/{id}/rights (rights.go)
	useDecisions(builtins, st)               // the beneficiary registry's programmes paid on a right
	x.sources = &sources{tokens: outbound.HubTokens(keys, oauth.SourceTokenType, ""), builtins: builtins, baseURL: baseURL,
		overHTTP: cfg.BuiltinOverHTTP, urls: cfg.SourceURLs, callbacks: &dciclient.Callbacks{},
		callbackBase: publicURL + httpapi.MountPrefix(cfg.DCIPrefix), client: httpapi.NewSourceClient()} // each call has its timeout (dciclient)
	policy, err := x.load(ctx)
	if err != nil {
		x.audit.Close(ctx)
		return nil, err
	}
	x.exchange = exchange.New(policy, x.sources, recorder{x.audit}, nil)
	if x.mandates, err = newMandateCache(ctx, st.Directory); err != nil {
		x.audit.Close(ctx)
		return nil, err
	}
	st.Directory.OnChange(x.changed)
	if cfg.Limits != nil || cfg.Replicas > 1 {
		l := exchange.DefaultLimits()
		if cfg.Limits != nil {
			l = *cfg.Limits
		}
		x.exchange.SetLimits(l.PerReplica(cfg.Replicas)) // each replica its share of a client's
	}
	return x, nil
}

// AuditJournal is the folder of the audit log's journal for the store with DSN store:
// beside an SQLite file, whose commits would otherwise bound the exchanges per second
// (see package audit). A PostgreSQL store has none ("").
func AuditJournal(store string) string {
	p, ok := sqlstore.SQLiteFile(store)
	if !ok {
		return ""
	}
	return p + "-audit"
}

// AuditPublished is the file where the hub remembers the largest audit checkpoint it
// signed, outside the store, so that it refuses a store that lost records (see package
// audit): beside an SQLite file, or beside the key file for PostgreSQL; "" when keys
// are kept in memory only (their checkpoints cannot be checked after a restart anyway).
func AuditPublished(store, keyFile string) string {
	if p, ok := sqlstore.SQLiteFile(store); ok {
		return p + "-audit-checkpoint"
	}
	if keyFile == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(keyFile), "audit-checkpoint")
}

// load reads the authorizations and services and builds the policy from them.
func (x *stack) load(ctx context.Context) (*exchange.Policy, error) {
	for _, k := range []directory.Kind{directory.KindAuthorization, directory.KindService} {
		seq, err := directory.LastSeq(ctx, x.dir.Store(), k, 0)
		if err != nil {
			return nil, err
		}
		x.seen[k] = seq
	}
	auths, err := all[directory.Authorization](ctx, x.dir)
	if err != nil {
		return nil, err
	}
	svcs, err := all[directory.Service](ctx, x.dir)
	if err != nil {
		return nil, err
	}
	x.sources.set(svcs)
	return exchange.NewPolicy(auths, x.index), nil
}

func all[T directory.Entity, P directory.EntityPtr[T]](ctx context.Context, d *directory.Directory) ([]T, error) {
	var out []T
	q := directory.ListQuery{Limit: 1000}
	for {
		page, err := directory.List[T, P](ctx, d, q, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			return out, nil
		}
		q.After = page.Next
	}
}

// refresh keeps the policy and the index current with changes made elsewhere (the CLI,
// another replica), checking the history every interval until ctx ends.
func (x *stack) refresh(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := x.index.Refresh(ctx, x.dir.Store()); err != nil {
			x.log.Warn("refresh the person directory", "err", err)
		}
		x.reload(ctx, false)
		if err := x.mandates.refresh(ctx); err != nil {
			x.log.Warn("refresh the mandates", "err", err)
		}
	}
}

// reload rebuilds the policy when the history holds authorization or service changes
// it has not seen (always, with force).
func (x *stack) reload(ctx context.Context, force bool) {
	x.reloading.Lock()
	defer x.reloading.Unlock()
	changed := force
	for k, seen := range x.seen {
		cs, err := x.dir.Store().History(ctx, directory.HistoryQuery{Kind: k, After: seen, Limit: 1})
		changed = changed || (err == nil && len(cs) > 0)
	}
	if !changed {
		return
	}
	p, err := x.load(ctx)
	if err != nil {
		x.log.Warn("reload the policy", "err", err)
		return
	}
	x.exchange.SetPolicy(p)
	x.log.Info("policy reloaded")
}

// changed is told of every directory record this process writes: a change of an
// authorization, a service or an institution (its mandates) is in force before the
// request that made it returns.
func (x *stack) changed(ctx context.Context, kind directory.Kind) {
	switch kind {
	case directory.KindAuthorization, directory.KindService:
		x.reload(context.WithoutCancel(ctx), true)
	case directory.KindInstitution: // a mandate given or revoked: in force at once
		x.mandates.drop()
	}
}

// serviceFor names the service for a DCI registry: the one receiver_id names if it
// exists, else the first service of that registry type.
func (x *stack) serviceFor(registry, receiverID string) string {
	return x.sources.serviceFor(registry, receiverID)
}

func (x *stack) deps() (*oauth.Server, *oauth.KeySet, *exchange.Exchange, map[string]exchange.Source) {
	return x.oauth, x.keys, x.exchange, x.sources.builtins
}

// registries returns the built-in derived registries, by kind.
func (x *stack) registries() map[string]*derived.Source {
	out := map[string]*derived.Source{}
	for kind, src := range x.sources.builtins {
		if d, ok := src.(*derived.Source); ok {
			out[kind] = d
		}
	}
	return out
}

func (x *stack) close(ctx context.Context) error { return x.audit.Close(ctx) }

// AuditKeyName names the hub's key in signed audit checkpoints.
const AuditKeyName = "crossroads-audit"

func auditSigner(keys *oauth.KeySet) (note.Signer, error) {
	k, err := keys.Current()
	if err != nil {
		return nil, err
	}
	return audit.NewSigner(AuditKeyName, k)
}

// AuditVerifierKey is the note verifier key of the hub's current key: with it alone,
// anyone can check a checkpoint or a record's evidence offline.
func AuditVerifierKey(keys *oauth.KeySet) (string, error) {
	k, err := keys.Current()
	if err != nil {
		return "", err
	}
	return audit.VerifierKey(AuditKeyName, k.Public())
}

// recorder writes exchange entries to the audit log.
type recorder struct{ log *audit.Log }

func (r recorder) Record(ctx context.Context, e exchange.Entry) (int64, error) {
	return r.log.Append(ctx, audit.Record{Time: e.Time, Client: e.Client, MessageID: e.MessageID, Institution: e.Institution,
		Service: e.Service, Purpose: e.Purpose, Persons: e.Persons, Fields: e.Fields, Decision: e.Decision,
		Reasons: e.Reasons, Authorization: e.Authorization, Outcome: e.Outcome, Status: e.Status,
		LatencyMicros: e.Latency.Microseconds(), RequestHash: hex.EncodeToString(e.RequestHash[:]),
		ResponseHash: hex.EncodeToString(e.ResponseHash[:]), Lines: e.Lines})
}

func (r recorder) Expect(n int) func() { return r.log.Expect(n) }

// sources finds the source of a service from the directory's service records.
type sources struct {
	mu       sync.RWMutex
	services map[string]directory.Service
	builtins map[string]exchange.Source
	remotes  map[string]exchange.Source
	tokens   *outbound.Tokens // the source tokens the hub signs for itself, by audience
	baseURL  string
	overHTTP bool              // reach the built-in sources over HTTP, as remote ones
	urls     map[string]string // where, by built-in source, if not at the hub's /sources/{name}
	// callbacks awaits the answers of asynchronous sources, which call back at
	// callbackBase/{registry}/registry/on-search.
	callbacks    *dciclient.Callbacks
	callbackBase string
	client       *http.Client
}

func (s *sources) set(svcs []directory.Service) {
	m := make(map[string]directory.Service, len(svcs))
	for _, v := range svcs {
		m[v.ID] = v
	}
	s.mu.Lock()
	s.services, s.remotes = m, map[string]exchange.Source{}
	s.mu.Unlock()
}

// Source implements exchange.Sources.
func (s *sources) Source(service string) (exchange.Source, error) {
	s.mu.RLock()
	svc, ok := s.services[service]
	src := s.remotes[service]
	s.mu.RUnlock()
	if !ok {
		return nil, fault.NotFoundf("service %q is not in the directory", service)
	}
	if src != nil {
		return src, nil
	}
	name, builtin := strings.CutPrefix(svc.Endpoint, "builtin:")
	switch {
	case builtin && !s.overHTTP:
		if b, ok := s.builtins[name]; ok {
			return b, nil
		}
		return nil, fault.Unavailablef(nil, "built-in source %q does not exist", name)
	case builtin && s.urls[name] != "":
		c := s.remote(s.urls[name], "source:"+name)
		c.AsOf = true // the hub's own sources, served over HTTP (httpapi/sources.go)
		src = c
	case builtin:
		c := s.remote(s.baseURL+"/sources/"+name, "source:"+name)
		c.AsOf = true
		src = c
	case svc.Mode == directory.ModeAsync:
		c := s.remote(svc.Endpoint, "source:"+service)
		c.Async, c.Institution, c.AsOf = s.callbacks, svc.Institution, svc.AsOf
		c.CallbackURL = s.callbackBase + "/" + dci.RegistryOf(svc.Registry).Path + "/registry/on-search"
		src = c
	default:
		c := s.remote(svc.Endpoint, "source:"+service)
		c.AsOf = svc.AsOf
		src = c
	}
	s.mu.Lock()
	s.remotes[service] = src
	s.mu.Unlock()
	return src, nil
}

// remote is a DCI client presenting a token the hub signs for the source's audience.
func (s *sources) remote(base, audience string) *dciclient.Client {
	return &dciclient.Client{BaseURL: base, SenderID: outbound.SenderID, HTTP: s.client,
		Token: func(ctx context.Context) (string, error) { return s.tokens.Get(ctx, audience) }}
}

func (s *sources) serviceFor(registry, receiverID string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if svc, ok := s.services[receiverID]; ok {
		return svc.ID
	}
	var ids []string
	for id, svc := range s.services {
		if svc.Registry == registry {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

func (x *stack) verifierKey() (string, error) { return AuditVerifierKey(x.keys) }

// keyHistory returns the audit log's key history, each key as its verifier key (from
// the keys the key file ever held).
func (x *stack) keyHistory(keyFile string) ([]audit.KeyPeriod, error) {
	known, err := x.verifierKeys(keyFile)
	if err != nil {
		return nil, err
	}
	return x.audit.KeyHistory(known), nil
}

// verifierKeys returns the verifier keys of the current key and of every key the key
// file ever held.
func (x *stack) verifierKeys(keyFile string) ([]string, error) {
	current, err := x.verifierKey()
	if err != nil {
		return nil, err
	}
	keys := []string{current}
	if keyFile != "" {
		old, err := ReadVerifiers(keyFile)
		if err != nil {
			return nil, err
		}
		for _, k := range old {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys, nil
}
