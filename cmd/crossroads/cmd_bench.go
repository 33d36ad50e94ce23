package main

import (
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bench"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/perm"
)

// BenchCmd groups the benchmarks. Each prints a table; with --json the last line is one
// JSON object of its figures.
type BenchCmd struct {
	JSON       bool   `help:"Print the figures as one JSON object on the last line."`
	CPUProfile string `help:"Write a CPU profile of the run to this file (for go tool pprof)." type:"path"`
	MemProfile string `help:"Write an allocation profile of the run to this file (for go tool pprof -sample_index=alloc_space)." type:"path"`

	Ident    BenchIdentCmd    `cmd:"" help:"Identifier validation: checks per second."`
	Lookup   BenchLookupCmd   `cmd:"" help:"Person-directory lookups per second through the SQLite store."`
	Synth    BenchSynthCmd    `cmd:"" help:"Time to generate a nation into SQLite."`
	Demo     BenchDemoCmd     `cmd:"" help:"Time for 'crossroads demo' to serve: first and second start."`
	Exchange BenchExchangeCmd `cmd:"" help:"Exchanges per second: direct, through a proxy, through the hub."`
	DCI      BenchDCICmd      `cmd:"" name:"dci" help:"Asynchronous DCI search: accepted per second, callbacks delivered, time to callback."`
	Events   BenchEventsCmd   `cmd:"" help:"Mutations: deliveries per second to local push subscribers, time from commit to receipt."`
	Fairness BenchFairnessCmd `cmd:"" help:"A client's look-ups alone and while another client floods the hub with full-scan filters: p99 and their ratio."`
	// Declarations: the employment source (#18).
	Declarations BenchDeclarationsCmd `cmd:"" help:"Quarterly declarations: lines per second ingested (validated, stored) against the raw insert; SQLite, PostgreSQL with --postgres."`
	// G2P: the delivery chain of the old-age allowance (#21).
	G2P BenchG2PCmd `cmd:"" name:"g2p" help:"The old-age allowance's chain: registration p99 at a steady rate, a monthly cycle for 500,000 beneficiaries, reconciliation lines per second."`
	// Witness: issue #16.
	Witness BenchWitnessCmd `cmd:"" help:"A witness (its own process) following a log checkpointed every 2 s under load: checkpoints cosigned, its processor time."`
	// Portal: issue #20.
	Portal BenchPortalCmd `cmd:"" help:"The portal: page render p50/p99 at a steady rate, offline verification of a credential, credential size."`
	// Soak and AuditVerify: issue #22.
	Soak        BenchSoakCmd        `cmd:"" help:"Drive the hub at a share of its capacity for a long time: memory, goroutines, open files and store size sampled (CSV, SVG), a heap profile, the audit log verified; fails if memory does not level off or a request is lost."`
	AuditVerify BenchAuditVerifyCmd `cmd:"" name:"audit-verify" help:"audit verify on a log of exchange records: records per second, peak memory, store bytes per record."`
	// Cluster: issue #17 (cmd_cluster.go).
	Cluster BenchClusterCmd `cmd:"" help:"Replicas on one PostgreSQL and a 3-node NATS: exchanges/s with 1, 2, 3; a replica killed every 10 s under load (nothing lost, lease takeover times); audit appends/s through several logs."`
	// Rights: issue #19.
	Rights BenchRightsCmd `cmd:"" help:"The rights engine: national recompute (persons per second), what-if simulation, incremental re-evaluation at 1,000 changes a second (p99)."`
}

// BenchSoakCmd runs the soak.
type BenchSoakCmd struct {
	Data        string        `help:"A demo data folder to use; empty: generate a nation in a temporary folder."`
	Persons     int           `help:"Persons of the generated nation (without --data)." default:"100000"`
	Duration    time.Duration `help:"How long to drive the hub." default:"10m"`
	Share       float64       `help:"Share of the capacity measured first to drive the hub at." default:"0.7"`
	Concurrency int           `help:"Concurrent clients." default:"8"`
	Every       time.Duration `help:"Between two samples." default:"5s"`
	HeapAfter   time.Duration `help:"When to take the heap profile (at the end of a shorter run)." default:"10m"`
	Out         string        `help:"Folder for soak.csv, soak.svg and heap.pprof." default:"./crossroads-soak" type:"path"`
}

func (c *BenchSoakCmd) Run(e *env, b *BenchCmd) error {
	return b.onNation(e, c.Data, c.Persons, func(dir string) (*bench.Result, error) {
		r, err := bench.Soak(e.ctx, bench.SoakOptions{Data: dir, Duration: c.Duration, Share: c.Share, Concurrency: c.Concurrency,
			Every: c.Every, Out: c.Out, HeapAfter: c.HeapAfter})
		if err != nil && r != nil { // the figures, then the failure
			r.Print(e.stdout, b.JSON)
		}
		return r, err
	})
}

// BenchAuditVerifyCmd measures audit verification.
type BenchAuditVerifyCmd struct {
	Records int    `help:"Records in the log." default:"1000000"`
	Store   string `help:"An SQLite file to keep the log in: built on the first run, reused by the next ones (empty: a temporary file)." type:"path"`
	Workers int    `help:"Workers hashing records in parallel (0: one per processor)."`
	Plain   bool   `help:"Verify record by record, as any store allows (the figures before the streaming verification)."`
}

func (c *BenchAuditVerifyCmd) Run(e *env, b *BenchCmd) error {
	stop, err := b.profile()
	if err != nil {
		return err
	}
	defer stop()
	r, err := bench.AuditVerify(e.ctx, bench.AuditVerifyOptions{Records: c.Records, Store: c.Store, Workers: c.Workers, Plain: c.Plain})
	if err != nil {
		return err
	}
	return r.Print(e.stdout, b.JSON)
}

// BenchIdentCmd measures identifier checks.
type BenchIdentCmd struct{}

func (c *BenchIdentCmd) Run(e *env, b *BenchCmd) error {
	r, err := bench.Ident()
	if err != nil {
		return err
	}
	return r.Print(e.stdout, b.JSON)
}

// BenchLookupCmd measures person-directory lookups.
type BenchLookupCmd struct {
	Data        string        `help:"A demo data folder to use; empty: generate a nation in a temporary folder."`
	Persons     int           `help:"Persons of the generated nation (without --data)." default:"1000000"`
	Duration    time.Duration `help:"How long to measure." default:"10s"`
	Concurrency int           `help:"Concurrent clients." default:"4"`
}

func (c *BenchLookupCmd) Run(e *env, b *BenchCmd) error {
	dir, cleanup, err := benchData(e, c.Data, c.Persons)
	if err != nil {
		return err
	}
	defer cleanup()
	st, err := hub.Open(e.ctx, hub.Config{Store: "sqlite:" + filepath.Join(dir, "hub.db"), Civil: "sqlite:" + filepath.Join(dir, "civil.db")})
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := bench.Lookup(e.ctx, bench.LookupOptions{Directory: st.Hub.Directory(), Population: st.Civil.Population(),
		Duration: c.Duration, Concurrency: c.Concurrency, Sample: 20000})
	if err != nil {
		return err
	}
	return r.Print(e.stdout, b.JSON)
}

// BenchSynthCmd measures nation generation.
type BenchSynthCmd struct {
	Persons int `help:"Persons to generate." default:"1000000"`
}

func (c *BenchSynthCmd) Run(e *env, b *BenchCmd) error {
	tmp, err := os.MkdirTemp("", "crossroads-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	stop, err := b.profile()
	if err != nil {
		return err
	}
	defer stop()
	p := newProgress(e.stderr)
	r, err := bench.Synth(e.ctx, tmp, c.Persons, p.update)
	p.finish()
	if err != nil {
		return err
	}
	return r.Print(e.stdout, b.JSON)
}

// BenchDemoCmd measures demo start times.
type BenchDemoCmd struct {
	Persons int `help:"Persons of the demo nation." default:"100000"`
}

func (c *BenchDemoCmd) Run(e *env, b *BenchCmd) error {
	tmp, err := os.MkdirTemp("", "crossroads-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	p := newProgress(e.stderr)
	r, err := bench.DemoStart(e.ctx, tmp, c.Persons, p.update)
	p.finish()
	if err != nil {
		return err
	}
	return r.Print(e.stdout, b.JSON)
}

// BenchExchangeCmd measures the exchange against a direct source and a bare proxy.
type BenchExchangeCmd struct {
	Data        string        `help:"A demo data folder to use; empty: generate a nation in a temporary folder."`
	Persons     int           `help:"Persons of the generated nation (without --data)." default:"100000"`
	Duration    time.Duration `help:"How long to measure each of the four paths." default:"10s"`
	Concurrency int           `help:"Concurrent clients." default:"16"`
	Rounds      int           `help:"Measure the paths in this many interleaved slices, so that the machine's drift hits them alike." default:"5"`
	Batch       int           `help:"Persons (lines) of one batch consultation (/exchange/batch) sent through the hub after the paths, the pension fund's files cycled; 0: none. With --duration 0, the batch alone." default:"20000"`
}

func (c *BenchExchangeCmd) Run(e *env, b *BenchCmd) error {
	return b.onNation(e, c.Data, c.Persons, func(dir string) (*bench.Result, error) {
		return bench.Exchange(e.ctx, bench.ExchangeOptions{Data: dir, Duration: c.Duration, Concurrency: c.Concurrency, Rounds: c.Rounds, Batch: c.Batch})
	})
}

// BenchEventsCmd measures the delivery of mutations.
type BenchEventsCmd struct {
	Data     string        `help:"A demo data folder to use; empty: generate a nation in a temporary folder."`
	Persons  int           `help:"Persons of the generated nation (without --data)." default:"100000"`
	Duration time.Duration `help:"How long to record changes." default:"10s"`
	Rate     float64       `help:"Changes of address recorded per second." default:"1000"`
	Outage   time.Duration `help:"One subscriber (the pension fund's) answers 503 for this long in the middle of the run (which then lasts at least this plus 20 s); reports what it received once back."`
	Drain    bool          `help:"The subscribers hold their answers while the changes are recorded (--duration at most 8s), then release them: measures how fast the backlog drains."`
	Fanout   int           `help:"Add this many institutions that each hold a file on every person changed, an authorization for address data and a push subscription for changes of address: each change reaches that many more subscribers."`
}

func (c *BenchEventsCmd) Run(e *env, b *BenchCmd) error {
	return b.onNation(e, c.Data, c.Persons, func(dir string) (*bench.Result, error) {
		return bench.Events(e.ctx, bench.EventsOptions{Data: dir, Duration: c.Duration, Rate: c.Rate, Outage: c.Outage, Drain: c.Drain, Fanout: c.Fanout})
	})
}

// BenchDCICmd measures the asynchronous DCI search through the hub.
type BenchDCICmd struct {
	Data        string        `help:"A demo data folder to use; empty: generate a nation in a temporary folder."`
	Persons     int           `help:"Persons of the generated nation (without --data)." default:"100000"`
	Duration    time.Duration `help:"How long to send searches." default:"10s"`
	Concurrency int           `help:"Concurrent clients." default:"16"`
	Rate        float64       `help:"Searches to send per second; 0: as fast as the clients can." default:"1000"`
}

func (c *BenchDCICmd) Run(e *env, b *BenchCmd) error {
	return b.onNation(e, c.Data, c.Persons, func(dir string) (*bench.Result, error) {
		return bench.DCI(e.ctx, bench.DCIOptions{Data: dir, Duration: c.Duration, Concurrency: c.Concurrency, Rate: c.Rate})
	})
}

// BenchFairnessCmd measures what an abusive client does to a well-behaved one.
type BenchFairnessCmd struct {
	Data        string        `help:"A demo data folder to use; empty: generate a nation in a temporary folder."`
	Persons     int           `help:"Persons of the generated nation (without --data)." default:"100000"`
	Duration    time.Duration `help:"How long to measure the look-ups alone, and as long with the abusive client." default:"15s"`
	Rounds      int           `help:"Measure the two in this many interleaved slices." default:"3"`
	Workers     int           `help:"Well-behaved client: concurrent workers." default:"16"`
	Rate        float64       `help:"Well-behaved client: look-ups by person number a second; 0: a closed loop of the workers." default:"500"`
	Abusers     int           `help:"Abusive client: connections each sending full-scan filters without pause." default:"50"`
	AbuserWaits bool          `help:"The abusive client waits as a 429's Retry-After says (by default it does not)."`
	NoLimits    bool          `help:"Turn the exchange's limits off, to compare."`
}

func (c *BenchFairnessCmd) Run(e *env, b *BenchCmd) error {
	return b.onNation(e, c.Data, c.Persons, func(dir string) (*bench.Result, error) {
		return bench.Fairness(e.ctx, bench.FairnessOptions{Data: dir, Duration: c.Duration, Rounds: c.Rounds,
			Workers: c.Workers, Rate: c.Rate, Abusers: c.Abusers, AbuserWaits: c.AbuserWaits, NoLimits: c.NoLimits})
	})
}

// onNation runs a benchmark on a nation (data, or one of persons made for it) with the
// profile asked for, and prints its result.
func (b *BenchCmd) onNation(e *env, data string, persons int, run func(dir string) (*bench.Result, error)) error {
	dir, cleanup, err := benchData(e, data, persons)
	if err != nil {
		return err
	}
	defer cleanup()
	stop, err := b.profile()
	if err != nil {
		return err
	}
	defer stop()
	r, err := run(dir)
	if err != nil {
		return err
	}
	return r.Print(e.stdout, b.JSON)
}

// benchData returns a folder with a nation: data if given, else a temporary one made now.
func benchData(e *env, data string, persons int) (string, func(), error) {
	if data != "" {
		return data, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "crossroads-bench-")
	if err != nil {
		return "", nil, err
	}
	p := newProgress(e.stderr)
	_, err = bench.Synth(e.ctx, tmp, persons, p.update)
	p.finish()
	if err != nil {
		os.RemoveAll(tmp)
		return "", nil, err
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}

// profile starts the CPU profile if one was asked for; the returned func stops it.
func (b *BenchCmd) profile() (func(), error) {
	stop := func() {}
	if b.CPUProfile != "" {
		f, err := perm.OpenFile(b.CPUProfile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		stop = func() { pprof.StopCPUProfile(); f.Close() }
	}
	if b.MemProfile == "" {
		return stop, nil
	}
	f, err := perm.OpenFile(b.MemProfile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		stop()
		return nil, err
	}
	return func() {
		stop()
		_ = pprof.Lookup("allocs").WriteTo(f, 0)
		f.Close()
	}, nil
}

// BenchDeclarationsCmd measures the employment source's declarations.
type BenchDeclarationsCmd struct {
	Lines    int    `help:"Worker lines of the quarterly file." default:"1000000"`
	Postgres string `help:"A PostgreSQL DSN to measure the ingest on as well (in a schema of its own, dropped at the end)." env:"CROSSROADS_BENCH_POSTGRES"`
	// The immediate declarations through the API need a nation: its persons are hired.
	Data        string        `help:"A demo data folder whose hub measures immediate declarations through the API (its persons are hired); empty: a nation generated in a temporary folder."`
	Persons     int           `help:"Persons of the generated nation (without --data)." default:"50000"`
	APIDuration time.Duration `name:"api-duration" help:"How long to send immediate declarations through the API; 0: not measured." default:"10s"`
	Concurrency int           `help:"Concurrent clients sending immediate declarations." default:"16"`
}

func (c *BenchDeclarationsCmd) Run(e *env, b *BenchCmd) error {
	dir, err := os.MkdirTemp("", "crossroads-bench-declarations-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	o := bench.DeclarationsOptions{Dir: dir, Lines: c.Lines, Postgres: c.Postgres}
	if c.APIDuration > 0 {
		data, cleanup, err := benchData(e, c.Data, c.Persons)
		if err != nil {
			return err
		}
		defer cleanup()
		o.API = bench.DeclarationsAPI(data, c.APIDuration, c.Concurrency)
	}
	stop, err := b.profile()
	if err != nil {
		return err
	}
	r, err := bench.Declarations(e.ctx, o)
	stop()
	if err != nil {
		return err
	}
	return r.Print(e.stdout, b.JSON)
}

// BenchWitnessCmd measures a witness following a busy hub's log.
type BenchWitnessCmd struct {
	Duration time.Duration `help:"How long the witness follows the log." default:"3m"`
	Rate     int           `help:"Records appended to the log per second." default:"1000"`
}

func (c *BenchWitnessCmd) Run(e *env, b *BenchCmd) error {
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	r, err := bench.Witness(e.ctx, bench.WitnessOptions{Binary: bin, Duration: c.Duration, Rate: c.Rate})
	if err != nil {
		return err
	}
	return r.Print(e.stdout, b.JSON)
}

// BenchG2PCmd measures the delivery chain of the old-age allowance (#21).
type BenchG2PCmd struct {
	Data          string        `help:"A demo data folder to use (the benchmark registers persons and pays them there); empty: a nation generated in a temporary folder."`
	Persons       int           `help:"Persons of the generated nation (without --data): at least the beneficiaries and the registrations." default:"510000"`
	Rate          int           `help:"Registrations per second." default:"100"`
	Duration      time.Duration `help:"How long registrations arrive at that rate." default:"10s"`
	Beneficiaries int           `help:"Beneficiaries of the monthly cycle." default:"500000"`
	Lines         int           `help:"Statement lines of the reconciliation measured alone." default:"500000"`
}

func (c *BenchG2PCmd) Run(e *env, b *BenchCmd) error {
	return b.onNation(e, c.Data, c.Persons, func(dir string) (*bench.Result, error) {
		p := newProgress(e.stderr)
		defer p.finish()
		return bench.G2P(e.ctx, bench.G2POptions{Data: dir, Rate: c.Rate, Duration: c.Duration, Beneficiaries: c.Beneficiaries, Lines: c.Lines, Progress: p.update})
	})
}

// BenchRightsCmd measures the rights engine (#19).
type BenchRightsCmd struct {
	Data     string        `help:"Folder of a generated nation (hub.db, civil.db) to use; default: generate one of --persons." type:"path"`
	Persons  int           `help:"Persons of the nation generated when --data is not given." default:"1000000"`
	Rate     int           `help:"Income changes per second during the incremental phase." default:"1000"`
	Duration time.Duration `help:"Length of the incremental phase (0 skips it)." default:"10s"`
	Phases   []string      `help:"Phases to run: recompute (both national runs), simulate, incremental." default:"recompute,simulate,incremental" enum:"recompute,simulate,incremental"`
}

func (c *BenchRightsCmd) Run(e *env, b *BenchCmd) error {
	return b.onNation(e, c.Data, c.Persons, func(dir string) (*bench.Result, error) {
		p := newProgress(e.stderr)
		defer p.finish()
		return bench.Rights(e.ctx, bench.RightsOptions{Data: dir, Rate: c.Rate, Duration: c.Duration, Phases: c.Phases, Progress: p.update})
	})
}
