package hub

import (
	"context"
	"path/filepath"

	"github.com/crossroads-hub/crossroads/internal/bus"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/events"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/httpapi"
	"github.com/crossroads-hub/crossroads/internal/metrics"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// The automatic communication of changes runs in package events, over package bus; the
// hub opens the bus and gives the pipeline its stores, policy, keys and HTTP client.

// eventsDir is where the embedded JetStream keeps its files: beside an SQLite store, or
// in ./crossroads-nats.
func eventsDir(cfg Config) string {
	if cfg.NATSDir != "" {
		return cfg.NATSDir
	}
	if p, ok := sqlstore.SQLiteFile(cfg.Store); ok {
		return filepath.Join(filepath.Dir(p), "nats")
	}
	return "crossroads-nats"
}

// startEvents opens the bus and starts the pipeline; stop ends both, the pipeline
// first.
func startEvents(ctx context.Context, cfg Config, st *Stores, x *stack, reg *metrics.Registry) (p *events.Pipeline, stop func(), err error) {
	b, err := bus.Open(ctx, bus.Config{URL: cfg.NATS, Dir: eventsDir(cfg), Name: "crossroads-hub", Log: x.log})
	if err != nil {
		return nil, nil, err
	}
	client := cfg.Callbacks
	if client == nil {
		// Every lane of every push subscription keeps its connection while it pushes, and
		// lets it go a second after (httpapi.NewSenderClient).
		client = httpapi.NewSenderClient()
	}
	p, err = events.Start(ctx, events.Config{Bus: b, Civil: st.Civil.Population(), Registries: x.registries(),
		Service: x.sources.builtinService,
		Subscriptions: func(ctx context.Context) ([]directory.Subscription, error) {
			return all[directory.Subscription](ctx, st.Directory)
		},
		Files: x.index.Files, Policy: func() *exchange.Policy { return x.exchange.Policy() },
		Audit: x.audit, Keys: x.keys, Client: client, Log: x.log, Metrics: reg, MaxAge: cfg.DeliveryMaxAge,
		Leases: st.Hub.Leases()})
	if err != nil {
		b.Close()
		return nil, nil, err
	}
	return p, func() { p.Close(); b.Close() }, nil
}

// builtinService is the directory service of the built-in source name ("civil", a
// derived registry's kind): the one whose endpoint is builtin:<name> (the first by id
// if several are); "" if none is.
func (s *sources) builtinService(name string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	found := ""
	for id, svc := range s.services {
		if svc.Endpoint == "builtin:"+name && (found == "" || id < found) {
			found = id
		}
	}
	return found
}
