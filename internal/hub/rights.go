package hub

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/lease"
	"github.com/crossroads-hub/crossroads/internal/rights"
	"github.com/crossroads-hub/crossroads/internal/rightsfacts"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// The rights engine (#19) on the hub's stack: facts through the exchange's policy and
// audit log (rightsfacts.Door), decisions in the civil database's rights schema.

// rightsEngine builds the engine with the demo catalogue.
func (x *stack) rightsEngine(st *Stores) *rights.Engine {
	door := &rightsfacts.Door{Registers: rightsRegisters(st), Exchange: x.exchange}
	e := rights.NewEngine(rights.DemoCatalogue(), st.Civil.Rights(), door)
	e.Failed = func(f rights.Failure) {
		x.log.Warn("a rule failed for a person: the previous decision stays", "right", f.Right, "reason", f.Reason)
	}
	return e
}

// rightsRegisters reads the rules' facts from the built-in sources.
func rightsRegisters(st *Stores) *rightsfacts.Registers {
	return &rightsfacts.Registers{Roster: st.Civil.Roster(), Population: st.Civil.Population(),
		Declared:   &derived.Source{Kind: derived.Social, Store: st.Civil.Population(), Searcher: st.Civil.Searcher()},
		Employment: st.Civil.Employment()}
}

// Rights runs fn with the rights engine on the stores, as the hub's operator (the CLI):
// it loads the keys and the policy and opens the audit log, where every read of facts
// is recorded, and closes it after fn. The hub must not be running on the same SQLite
// store (one writer of the audit log).
func Rights(ctx context.Context, cfg Config, st *Stores, fn func(ctx context.Context, e *rights.Engine, access *rightsfacts.Access) error) (err error) {
	x, err := startStack(ctx, cfg, st, "http://127.0.0.1", "http://127.0.0.1")
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute) // the audit log stores what its journal holds
		defer cancel()
		if cerr := x.close(cctx); cerr != nil && err == nil {
			err = fmt.Errorf("close the audit log: %w", cerr)
		}
	}()
	e := x.rightsEngine(st)
	return fn(ctx, e, &rightsfacts.Access{Engine: e, Exchange: x.exchange, Service: synth.RightsDecisions})
}

// rightsBuiltin is the name of the rights service's built-in source (builtin:rights).
const rightsBuiltin = "rights"

// rightsSource is the built-in source of the rights service: its DCI look-ups are
// refused, because an authorization covers one right (purpose right:<id>) and a search
// cannot say which; the decisions are read through /persons/{id}/rights.
type rightsSource struct{}

func (rightsSource) Search(ctx context.Context, r exchange.SourceRequest) (exchange.SourceResult, error) {
	return exchange.SourceResult{}, fault.Invalidf("service", "the decisions of the rights engine are read through GET /persons/{id}/rights and …/explanation, one authorization a right")
}

// startRights builds the rights engine of a serving hub and runs its follower (the
// incremental re-evaluation) under the lease "rights", one replica at a time; stop ends
// it and waits.
func startRights(ctx context.Context, x *stack, st *Stores, log *slog.Logger) (access *rightsfacts.Access, stop func()) {
	e := x.rightsEngine(st)
	f := &rightsfacts.Follower{Engine: e, Log: st.Civil.Population(), Roster: st.Civil.Roster()}
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		lease.Run(fctx, st.Hub.Leases(), "rights", log, func(ctx context.Context) {
			if err := f.Run(ctx); err != nil {
				log.Error("the rights follower stopped", "err", err)
			}
		})
	}()
	return &rightsfacts.Access{Engine: e, Exchange: x.exchange, Service: synth.RightsDecisions}, func() { cancel(); <-done }
}

// rightsHeld reads the rights a person holds from the engine's store.
type rightsHeld struct{ store rights.Store }

func (h rightsHeld) Held(ctx context.Context, person string) (map[string]date.Date, error) {
	cur, err := h.store.Current(ctx, []string{person})
	if err != nil {
		return nil, err
	}
	out := map[string]date.Date{}
	for _, d := range cur {
		if d.Holds() {
			out[d.Right] = d.Effective
		}
	}
	return out, nil
}

// useDecisions makes the beneficiary registry's programmes paid on a right come from the
// rights engine's decisions: the programme of each rule that needs no application.
func useDecisions(builtins map[string]exchange.Source, st *Stores) {
	paid := map[string]string{}
	for _, r := range rights.DemoCatalogue().Rules() {
		if r.Programme != "" && !r.Application {
			paid[r.ID] = r.Programme
		}
	}
	if b, ok := builtins[derived.Beneficiary].(*derived.Source); ok {
		b.Decisions, b.Paid = rightsHeld{st.Civil.Rights()}, paid
	}
}
