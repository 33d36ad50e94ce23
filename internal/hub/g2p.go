package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bank"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/g2p"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/query"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// G2P is the delivery chain of #21 wired on a hub: the SP-MIS's old-age allowance asking
// through the hub's exchange and audit log, the demo bank in a store of its own, the
// demo's SMS outbox.
type G2P struct {
	Service   *g2p.Service
	Bank      *bank.Demo
	Outbox    *g2p.Outbox
	Disburser g2p.Disburser
	stack     *stack // nil when the hub's Serve owns it
	bankDB    *sqlstore.DB
	g2pDB     *sqlstore.DB
	seeding   sync.WaitGroup
}

// BankStore is the DSN of the demo bank's store beside the hub's: "<store>-bank.db" for
// an SQLite file, the same database (schema bank) on PostgreSQL.
func BankStore(store string) string { return besideStore(store, "bank") }

// ProgrammeStore is the DSN of the SP-MIS's store (registrations, list, mapper,
// instructions): "<store>-g2p.db" beside an SQLite file, the same database (schema g2p)
// on PostgreSQL. Neither is the hub's: a bank and a programme keep their own data.
func ProgrammeStore(store string) string { return besideStore(store, "g2p") }

func besideStore(store, name string) string {
	if p, ok := sqlstore.SQLiteFile(store); ok {
		return "sqlite:" + strings.TrimSuffix(p, filepath.Ext(p)) + "-" + name + ".db"
	}
	return store
}

// OpenG2P opens the delivery chain on st with an exchange stack of its own (the
// scenario and the benchmark: no HTTP server). Close it after use.
func OpenG2P(ctx context.Context, cfg Config, st *Stores) (*G2P, error) {
	if err := EnsureDeliveryChain(ctx, st.Directory); err != nil {
		return nil, err
	}
	x, err := startStack(ctx, cfg, st, "http://127.0.0.1", "http://127.0.0.1")
	if err != nil {
		return nil, err
	}
	g, err := newG2P(ctx, cfg, st, x)
	if err != nil {
		x.close(ctx)
		return nil, err
	}
	g.stack = x
	return g, nil
}

// newG2P wires the chain on a running stack.
func newG2P(ctx context.Context, cfg Config, st *Stores, x *stack) (*G2P, error) {
	bankDB, err := sqlstore.Open(ctx, BankStore(cfg.Store), sqlstore.Bank)
	if err != nil {
		return nil, fmt.Errorf("open the demo bank: %w", err)
	}
	g2pDB, err := sqlstore.Open(ctx, ProgrammeStore(cfg.Store), sqlstore.G2P)
	if err != nil {
		bankDB.Close()
		return nil, fmt.Errorf("open the programme's store: %w", err)
	}
	now := time.Now
	demo := &bank.Demo{Store: bankDB.Bank(), Now: func() date.Date { return date.FromTime(now()) }}
	prog, err := g2p.OldAgeAllowance(synth.SPMIS, bank.ProgrammeAccount())
	if err != nil {
		bankDB.Close()
		g2pDB.Close()
		return nil, err
	}
	h := &g2p.ExchangeHub{X: x.exchange, Caller: exchange.Caller{ClientID: synth.AppID(synth.SPMIS), Institution: synth.SPMIS},
		Recorder: recorder{x.audit}, Files: programmeFiles(st.Directory), Close: programmeFilesClosed(st.Directory), Now: now}
	out := &g2p.Outbox{}
	g := &G2P{Bank: demo, Outbox: out, Disburser: g2p.BankDisburser{Bank: demo, Now: now}, bankDB: bankDB, g2pDB: g2pDB,
		Service: &g2p.Service{Programme: prog, Store: g2pDB.G2P(), Hub: h, Bank: demo, BankCode: strings.ToLower(synth.DemoBank), Sender: out, Now: now}}
	return g, nil
}

// Close closes the bank's store and, when it has its own, the exchange stack, once the
// demo bank's accounts are open (their context ended stops them early).
func (g *G2P) Close(ctx context.Context) error {
	g.seeding.Wait()
	err := g.Service.CloseRefused(ctx) // the refused applicants' files, before the stack goes
	err = errors.Join(err, g.bankDB.Close(), g.g2pDB.Close())
	if g.stack != nil {
		err = errors.Join(err, g.stack.close(ctx))
	}
	return err
}

// AuditSize is the number of records in the audit log (OpenG2P's stack).
func (g *G2P) AuditSize() int64 {
	if g.stack == nil {
		return 0
	}
	return g.stack.audit.Size()
}

// programmeFiles opens the SP-MIS's files on persons in the person directory.
func programmeFiles(d *directory.Directory) func(ctx context.Context, persons []string, day date.Date) error {
	return func(ctx context.Context, persons []string, day date.Date) error {
		lines := make([]directory.Line, len(persons))
		for i, p := range persons {
			lines[i] = directory.Line{Action: directory.ActionAdd, Integration: directory.Integration{Person: p,
				Institution: synth.SPMIS, Capacity: synth.CapacityApplicant, Begin: day}}
		}
		rep, err := d.Integrate(ctx, synth.SPMIS, lines, directory.Partial)
		if err != nil {
			return err
		}
		for _, l := range rep.Lines {
			if l.Error != "" && !strings.Contains(l.Error, "overlaps") && !strings.Contains(l.Error, "already recorded") {
				return fault.Invalidf("person", "the programme's file on %s: %s", persons[l.Line-1], l.Error)
			}
		}
		return nil
	}
}

// programmeFilesClosed ends the SP-MIS's open files on persons on day.
func programmeFilesClosed(d *directory.Directory) func(ctx context.Context, persons []string, day date.Date) error {
	return func(ctx context.Context, persons []string, day date.Date) error {
		var lines []directory.Line
		for _, p := range persons {
			fs, err := d.Files(ctx, p, day)
			if err != nil {
				return err
			}
			for _, f := range fs {
				if f.Institution == synth.SPMIS && f.Capacity == synth.CapacityApplicant && f.End.IsZero() {
					f.End = day
					lines = append(lines, directory.Line{Action: directory.ActionEnd, Integration: f})
				}
			}
		}
		if len(lines) == 0 {
			return nil
		}
		rep, err := d.Integrate(ctx, synth.SPMIS, lines, directory.Partial)
		if err != nil {
			return err
		}
		for _, l := range rep.Lines {
			if l.Error != "" {
				return fault.Invalidf("person", "closing the programme's file on %s: %s", lines[l.Line-1].Person, l.Error)
			}
		}
		return nil
	}
}

// EnsureDeliveryChain puts the SP-MIS, the demo bank and the SP-MIS's authorizations
// and subscription in a directory made before them (synth adds them to new nations).
func EnsureDeliveryChain(ctx context.Context, d *directory.Directory) error {
	ins, apps, auths, subs := synth.DeliveryChain(d.Today())
	for _, v := range ins {
		if err := putMissing(ctx, d, v, v.Code); err != nil {
			return err
		}
	}
	for _, v := range apps {
		if err := putMissing(ctx, d, v, v.ID); err != nil {
			return err
		}
	}
	for _, v := range auths {
		if err := putMissing(ctx, d, v, v.ID); err != nil {
			return err
		}
	}
	for _, v := range subs {
		if err := putMissing(ctx, d, v, v.ID); err != nil {
			return err
		}
		// A nation made when the SP-MIS pulled its deaths: it is pushed them now.
		if old, _, err := directory.Get[directory.Subscription](ctx, d, v.ID); err == nil && old.Mode == directory.ModePull && v.Mode == directory.ModePush {
			if _, _, err := directory.Put(ctx, d, "crossroads", v, directory.AnyVersion); err != nil {
				return err
			}
		}
	}
	return nil
}

func putMissing[T directory.Entity, P directory.EntityPtr[T]](ctx context.Context, d *directory.Directory, v T, key string) error {
	if _, _, err := directory.Get[T, P](ctx, d, key); err == nil {
		return nil
	} else if fault.KindOf(err) != fault.NotFound {
		return err
	}
	_, _, err := directory.Put[T, P](ctx, d, "crossroads", v, 0)
	return err
}

// SeedBank opens the demo bank's accounts for the persons of the register (alive or not:
// a bank learns of a death late), as bank.Holds says, in batches; it returns how many.
func (g *G2P) SeedBank(ctx context.Context, pop population.Store) (int, error) {
	n, after := 0, ""
	for {
		ps, err := pop.Persons(ctx, population.Query{After: after, Limit: 10_000})
		if err != nil {
			return n, err
		}
		if len(ps) == 0 {
			return n, nil
		}
		as := make([]bank.Account, 0, len(ps))
		for _, p := range ps {
			holds, closed := bank.Holds(p.Number)
			if !holds || p.BirthDate.Year() > date.FromTime(time.Now()).Year()-18 {
				continue
			}
			a, err := bank.DemoAccount(p.Number)
			if err != nil {
				return n, err
			}
			as = append(as, bank.Account{IBAN: a, Holder: p.GivenName + " " + p.FamilyName, Person: p.Number, BirthDate: p.BirthDate, Closed: closed})
		}
		if err := g.Bank.Store.PutAccounts(ctx, as); err != nil {
			return n, err
		}
		n += len(as)
		after = ps[len(ps)-1].Number
	}
}

// Candidates lists up to n persons of the demo nation likely to be eligible for the
// old-age allowance: 65 or older, alive, with an open account at the demo bank, no
// contributory pension and a household income within the limit, as the built-in
// registries derive them. It is the demo's way of picking sample applicants (read from
// the nation's stores, like the benchmarks'); the programme itself learns all this only
// through the hub, recorded, when they apply.
func (g *G2P) Candidates(ctx context.Context, pop population.Store, n int) ([]string, error) {
	if g.stack == nil {
		return nil, fault.Invalidf("g2p", "candidates are picked on a chain opened with OpenG2P")
	}
	today := date.FromTime(time.Now())
	src := g.stack.sources.builtins
	var out []string
	after := ""
	for len(out) < n {
		ps, err := pop.Persons(ctx, population.Query{After: after, Limit: 5000})
		if err != nil || len(ps) == 0 {
			return out, err
		}
		after = ps[len(ps)-1].Number
		for _, p := range ps {
			holds, closed := bank.Holds(p.Number)
			if len(out) >= n || !p.DeathDate.IsZero() || g2p.Age(p.BirthDate, today) < 65 || !holds || closed {
				continue
			}
			ok, err := g.likelyEligible(ctx, src, p.Number, p.BirthDate, today)
			if err != nil {
				return out, err
			}
			if ok {
				out = append(out, p.Number)
			}
		}
	}
	return out, nil
}

func (g *G2P) likelyEligible(ctx context.Context, src map[string]exchange.Source, person string, birth, today date.Date) (bool, error) {
	f := g2p.Facts{Age: g2p.Age(birth, today)}
	ask := func(kind string) (map[string]any, error) {
		res, err := src[kind].Search(ctx, exchange.SourceRequest{Query: query.Query{Kind: query.KindID, IDType: "PN", IDValue: person}, Day: today, Today: today})
		if err != nil || len(res.Records) == 0 {
			return nil, err
		}
		return res.Records[0], nil
	}
	social, err := ask(derived.Social)
	if err != nil {
		return false, err
	}
	ben, err := ask(derived.Beneficiary)
	if err != nil {
		return false, err
	}
	if hh, ok := social["household"].(map[string]any); ok {
		f.Resident = hh["region"] != ""
		inc, _ := hh["monthly_income"].(int)
		f.Income = int64(inc) * 100
	}
	progs, _ := ben["programmes"].([]any)
	for _, p := range progs {
		if pr, _ := p.(map[string]any); pr["programme"] == "old-age-pension" && pr["status"] == derived.Active {
			amt, _ := pr["monthly_amount"].(int)
			f.Pension = int64(amt) * 100
		}
	}
	d, err := g.Service.Programme.Decide(f)
	return d.Eligible, err
}

// demoG2P wires the chain on the demo's running stack and opens the demo bank's
// accounts for the nation in the background (the first start takes a few seconds per
// 100,000 persons; later starts find them).
func demoG2P(ctx context.Context, cfg Config, st *Stores, x *stack, log *slog.Logger) (*G2P, error) {
	if err := EnsureDeliveryChain(ctx, st.Directory); err != nil {
		return nil, err
	}
	g, err := newG2P(ctx, cfg, st, x)
	if err != nil {
		return nil, err
	}
	g.seeding.Add(1)
	// Until the accounts are open, a verification waits for them rather than answer
	// "no such account" (a registration right after the start was refused so).
	opened := make(chan struct{})
	g.Service.Bank = seededBank{Institution: g.Bank, opened: opened}
	go func() {
		defer g.seeding.Done()
		defer close(opened)
		n, err := g.SeedBank(ctx, st.Civil.Population())
		if err != nil && ctx.Err() == nil {
			log.Warn("open the demo bank's accounts", "err", err)
			return
		}
		log.Info("the demo bank's accounts are open", "accounts", n)
	}()
	return g, nil
}

// seededBank is the demo bank whose verifications wait until its accounts are open.
type seededBank struct {
	bank.Institution
	opened <-chan struct{} // closed when the seeding ends
}

func (b seededBank) Verify(ctx context.Context, q bank.VerifyRequest) (bank.Verification, error) {
	select {
	case <-b.opened:
	case <-ctx.Done():
		return bank.Verification{}, ctx.Err()
	}
	return b.Institution.Verify(ctx, q)
}
