package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bank"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/g2p"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/metrics"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// G2POptions configure the delivery chain's benchmark (#21).
type G2POptions struct {
	Data          string        // a folder holding a generated nation (hub.db, civil.db); the benchmark writes to it
	Rate          int           // registrations per second
	Duration      time.Duration // of the registrations under load
	Beneficiaries int           // of the payment cycle
	Lines         int           // of the statements reconciled on their own
	Progress      func(stage string, done, total int)
}

// G2P measures the delivery chain on the real stack (exchange, audit log, person
// directory, civil register and derived registries, the demo bank and the programme's
// store, all SQLite): registrations at a steady rate (a code, then the checks: p99 of
// both calls), a monthly cycle (list, death re-check through the hub, accounts
// resolved, instructions kept, disbursed to the bank, camt.053 statement streamed,
// reconciliation), and reconciliation alone.
func G2P(ctx context.Context, o G2POptions) (*Result, error) {
	cfg := hub.Config{Store: "sqlite:" + filepath.Join(o.Data, "hub.db"), Civil: "sqlite:" + filepath.Join(o.Data, "civil.db")}
	st, err := hub.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	g, err := hub.OpenG2P(ctx, cfg, st)
	if err != nil {
		return nil, err
	}
	defer g.Close(context.Background())
	progress(o, "bank accounts", 0, 1)
	if _, err := g.SeedBank(ctx, st.Civil.Population()); err != nil {
		return nil, err
	}
	progress(o, "bank accounts", 1, 1)
	from := st.Directory.Today().AddDays(-60)
	nreg := o.Rate * int(o.Duration.Seconds())
	// The registrations are of persons likely to be eligible (65 or more, an open
	// account, no pension, the income test), so each goes through every step: the
	// civil register, the rule, the bank, the list, the mapper, the confirmation. When
	// the nation has too few, adults fill the rest (stopped by the rule).
	regs, err := g.Candidates(ctx, st.Civil.Population(), nreg)
	if err != nil {
		return nil, err
	}
	persons, err := allPersons(ctx, st.Civil.Population(), o.Beneficiaries+nreg+len(regs), from)
	if err != nil {
		return nil, err
	}
	candidates := len(regs)
	taken := make(map[string]bool, candidates)
	for _, p := range regs {
		taken[p] = true
	}
	persons = slices.DeleteFunc(persons, func(p string) bool { return taken[p] })
	for len(regs) < nreg && len(persons) > 0 {
		regs, persons = append(regs, persons[0]), persons[1:]
	}
	if len(regs) < nreg {
		return nil, fmt.Errorf("the nation has %d adults: too few for %d registrations", len(regs), nreg)
	}
	r := newResult("g2p")
	r.add("load_1m", "load average (1 min) at start", load1(), "")
	r.add("registration_candidates", "registrations of persons likely eligible", candidates, "")
	if err := registrations(ctx, g, regs, o, r); err != nil {
		return nil, err
	}
	list := persons
	if len(list) > o.Beneficiaries {
		list = list[:o.Beneficiaries]
	}
	if err := cycle(ctx, g, st.Directory.Today(), from, list, o, r); err != nil {
		return nil, err
	}
	if err := reconcileAlone(o.Lines, r); err != nil {
		return nil, err
	}
	r.add("load_1m_end", "load average (1 min) at the end", load1(), "")
	return r, nil
}

func progress(o G2POptions, stage string, done, total int) {
	if o.Progress != nil {
		o.Progress(stage, done, total)
	}
}

// allPersons lists n adults of the register alive on day from (an account each, but
// for the demo bank's 1 in 50 without one and 1 in 100 closed).
func allPersons(ctx context.Context, pop population.Store, n int, from date.Date) ([]string, error) {
	var out []string
	after := ""
	for len(out) < n {
		ps, err := pop.Persons(ctx, population.Query{After: after, Limit: 10_000})
		if err != nil || len(ps) == 0 {
			return out, err
		}
		for _, p := range ps {
			if (p.DeathDate.IsZero() || p.DeathDate >= from) && g2p.Age(p.BirthDate, from) >= 18 {
				out = append(out, p.Number)
			}
		}
		after = ps[len(ps)-1].Number
	}
	return out[:min(n, len(out))], nil
}

// registrations runs one registration every 1/rate seconds, each in its own goroutine
// (arrivals do not wait for the ones before), and measures each from start to the
// outcome of its checks.
func registrations(ctx context.Context, g *hub.G2P, persons []string, o G2POptions, r *Result) error {
	sc := &g2p.Scenario{Service: g.Service, Bank: g.Bank, Disburser: g.Disburser, Outbox: g.Outbox}
	lat := make(latencies, len(persons))
	status := make([]string, len(persons))
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(o.Rate))
	defer tick.Stop()
	start, cpu := time.Now(), metrics.ProcessCPU()
	for i, p := range persons {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			reg, err := sc.Register(ctx, p)
			lat[i], status[i] = time.Since(t0), reg.Status
			if err != nil {
				select {
				case errs <- fmt.Errorf("register %s: %w", p, err):
				default:
				}
			}
		}()
		if i%100 == 0 {
			progress(o, "registrations", i, len(persons))
		}
	}
	wg.Wait()
	progress(o, "registrations", len(persons), len(persons))
	select {
	case err := <-errs:
		return err
	default:
	}
	took, spent := time.Since(start), metrics.ProcessCPU()-cpu
	counts := map[string]int{}
	for _, s := range status {
		counts[s]++
	}
	r.add("registrations", "registrations (code, then checks)", len(persons), "")
	r.add("registration_rate", "registrations per second offered", round(float64(len(persons))/took.Seconds()), "/s")
	r.add("registration_p50_ms", "registration p50", ms(lat.percentile(50)), "ms")
	r.add("registration_p99_ms", "registration p99", ms(lat.percentile(99)), "ms")
	r.add("registration_cpu_ms", "processor time per registration", decimals(ms(spent)/float64(len(persons)), 3), "ms")
	r.add("registered", "registered / ineligible / stopped", fmt.Sprintf("%d / %d / %d", counts[g2p.Registered], counts[g2p.Ineligible], counts[g2p.Stopped]), "")
	return nil
}

// cycle puts persons on the list from day from (their files opened that day, mapped to
// their demo account; those who died since are for the re-check to find),
// then measures one monthly cycle for them, statement and reconciliation included.
func cycle(ctx context.Context, g *hub.G2P, today, from date.Date, persons []string, o G2POptions, r *Result) error {
	const chunk = 50_000
	for start := 0; start < len(persons); start += chunk {
		part := persons[start:min(start+chunk, len(persons))]
		if err := g.Service.Hub.OpenFiles(ctx, part, from); err != nil {
			return err
		}
		bs := make([]g2p.Beneficiary, len(part))
		ms := make([]g2p.Mapping, len(part))
		for i, p := range part {
			a, err := bank.DemoAccount(p)
			if err != nil {
				return err
			}
			bs[i] = g2p.Beneficiary{Person: p, Name: "beneficiary", From: from, Status: g2p.Active}
			ms[i] = g2p.Mapping{Person: p, FA: a, Bank: "demo-bank", Linked: time.Now().UTC()}
		}
		if err := g.Service.Store.Import(ctx, bs, ms); err != nil {
			return err
		}
		progress(o, "list", start+len(part), len(persons))
	}
	payDay := g.Service.Programme.NextPayDay(today)
	start, cpu := time.Now(), metrics.ProcessCPU()
	rep, err := g.Service.RunCycle(ctx, g.Disburser, payDay)
	if err != nil {
		return err
	}
	stmt, err := g.Bank.Statement(ctx, g.Service.Programme.Account, payDay)
	if err != nil {
		return err
	}
	afterStatement := time.Now()
	// The statement streamed as camt.053 from the bank's writer to the programme's
	// parser, as over a connection: never held whole.
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(bank.WriteCAMT053(pw, stmt, time.Now().UTC().Format(time.RFC3339))) }()
	rec, err := g.Service.Reconcile(ctx, g2p.Cycle(payDay), g2p.CAMT053, pr)
	if err != nil {
		return err
	}
	total := time.Since(start)
	r.add("beneficiaries", "beneficiaries on the list", rep.Listed, "")
	r.add("deceased", "found dead at the re-check (rights ended)", rep.Deceased, "")
	r.add("instructions", "instructions sent", rep.Instructions, "")
	r.add("statement_lines", "statement lines (camt.053)", len(stmt.Lines), "")
	r.add("paid_returned", "paid / returned", fmt.Sprintf("%d / %d", rec.Paid, rec.Returned), "")
	for _, s := range rep.Steps {
		r.add("cycle_"+strings.ReplaceAll(s.Name, "-", "_")+"_s", "  "+s.Name, round(s.Duration.Seconds()*10)/10, "s")
	}
	r.add("cycle_statement_s", "  statement (the bank's)", round(afterStatement.Sub(start).Seconds()*10-sumSteps(rep.Steps)*10)/10, "s")
	r.add("cycle_reconcile_s", "  reconciliation (camt.053 streamed)", round(time.Since(afterStatement).Seconds()*10)/10, "s")
	r.add("cycle_seconds_500k", fmt.Sprintf("monthly cycle for %d beneficiaries", rep.Listed), round(total.Seconds()*10)/10, "s")
	// The processor time the cycle took, all goroutines together: what a busy machine
	// does not lengthen.
	r.add("cycle_cpu_seconds", "  its processor time", round((metrics.ProcessCPU()-cpu).Seconds()*10)/10, "s")
	return nil
}

func sumSteps(ss []g2p.Step) float64 {
	var d time.Duration
	for _, s := range ss {
		d += s.Duration
	}
	return d.Seconds()
}

// reconcileAlone matches statements of n lines (CSV, then camt.053, read from memory)
// against their instructions: the reconciliation's own rate.
func reconcileAlone(n int, r *Result) error {
	ins := make([]g2p.Instr, n)
	st := bank.Statement{ID: "BENCH", Account: bank.ProgrammeAccount(), Lines: make([]bank.Line, n)}
	for i := range ins {
		p := fmt.Sprintf("5%010d", i)
		a, _ := bank.DemoAccount(p)
		ins[i] = g2p.Instr{ID: "OAA-2026-12-" + p, Cycle: "2026-12", Person: p, Payee: a, Amount: 25000, Currency: "XCD", Status: g2p.Sent}
		st.Lines[i] = bank.Line{Ref: ins[i].ID, BankRef: fmt.Sprint(i), Payee: a, Amount: 25000, Currency: "XCD", Booked: 20261225, Status: bank.Booked}
	}
	for _, f := range []struct{ key, label, format string }{
		{"reconcile_lines_per_s", "reconciliation, CSV (parse and match)", g2p.CSV},
		{"reconcile_camt053_lines_per_s", "reconciliation, camt.053 (parse and match)", g2p.CAMT053},
	} {
		var b bytes.Buffer
		if f.format == g2p.CSV {
			bank.WriteCSV(&b, st)
		} else {
			bank.WriteCAMT053(&b, st, "2026-12-25T18:00:00Z")
		}
		start := time.Now()
		m := g2p.NewMatcher("2026-12", ins)
		var err error
		if f.format == g2p.CSV {
			_, err = bank.ParseCSV(&b, m.Line)
		} else {
			_, err = bank.ParseCAMT053(&b, m.Line)
		}
		if err != nil {
			return err
		}
		rec, _ := m.Finish()
		took := time.Since(start)
		if rec.Paid != n {
			return fmt.Errorf("reconciliation bench: %d paid of %d", rec.Paid, n)
		}
		r.add(f.key, f.label, round(float64(n)/took.Seconds()), "lines/s")
	}
	return nil
}

// load1 is the machine's load average over one minute (0 where /proc/loadavg is missing).
func load1() float64 {
	var l float64
	fmt.Sscan(loadAverage(), &l)
	return l
}
