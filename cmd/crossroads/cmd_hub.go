package main

import (
	"fmt"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/conns"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/httpapi"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// DemoCmd runs the demo hub.
type DemoCmd struct {
	Addr       string `help:"Address to listen on." default:"127.0.0.1:8080" env:"CROSSROADS_ADDR"`
	Data       string `help:"Data folder (created if missing; reused on the next start)." default:"./crossroads-data" type:"path" env:"CROSSROADS_DATA"`
	Persons    int    `help:"Persons in the synthetic nation made at first start." default:"100000"`
	Seed       uint64 `help:"Seed of the synthetic nation." default:"1"`
	DCIPrefix  string `name:"dci-prefix" help:"Where the DCI registries are mounted: PREFIX/{${registries}}/registry/…; / for the root." default:"/dci" env:"CROSSROADS_DCI_PREFIX"`
	Durability string `help:"What an exchange's audit record survives once answered: process (a crash of the process) or power (a loss of power; each journal write synced)." enum:"process,power" default:"process" env:"CROSSROADS_DURABILITY"`
	ConnFlags  `embed:""`
}

// ConnFlags are the limits on connections and uploads (#13).
type ConnFlags struct {
	MaxConnsPerAddress int           `name:"max-conns-per-address" help:"Connections open at once from one remote address (beyond: 429); 0: no cap, behind a reverse proxy." default:"256" env:"CROSSROADS_MAX_CONNS_PER_ADDRESS"`
	MaxConns           int           `name:"max-conns" help:"Connections open at once in all (beyond: 503); 0: half the open-file limit less 256, at most 10000." default:"0" env:"CROSSROADS_MAX_CONNS"`
	MinUploadRate      int           `name:"min-upload-rate" help:"Bytes a second a request body must average once --upload-grace has passed, else it is cut with 408; 0: no minimum." default:"4096" env:"CROSSROADS_MIN_UPLOAD_RATE"`
	UploadGrace        time.Duration `name:"upload-grace" help:"Time a request body may take before --min-upload-rate applies." default:"10s" env:"CROSSROADS_UPLOAD_GRACE"`
	// RecentMessages: issue #22.
	RecentMessages int `name:"recent-messages" help:"Message ids of synchronous searches remembered per 5-minute generation, to refuse repeats (about 20 bytes each; two generations; crossroads_recent_message_ids on /metrics)." default:"1048576" env:"CROSSROADS_RECENT_MESSAGES"`
}

// apply sets the limits in cfg.
func (f ConnFlags) apply(cfg *hub.Config) {
	cfg.Conns = &conns.Limits{PerAddress: max(f.MaxConnsPerAddress, 0), Total: max(f.MaxConns, 0)}
	cfg.Uploads = &httpapi.Uploads{Rate: max(f.MinUploadRate, 0), Grace: f.UploadGrace}
	cfg.RecentMessages = max(f.RecentMessages, 0)
}

func (c *DemoCmd) Run(e *env) error {
	if c.Persons < 1 || c.Persons > 20_000_000 {
		return fmt.Errorf("--persons must be from 1 to 20000000")
	}
	durability, err := audit.ParseDurability(c.Durability)
	if err != nil {
		return err
	}
	start := time.Now()
	p := newProgress(e.stderr)
	cfg := hub.DemoConfig{
		Config: hub.Config{Addr: c.Addr, Log: e.log, Out: e.stdout, Version: version, DCIPrefix: c.DCIPrefix, Durability: durability,
			OnReady: func(url string) {
				p.finish()
				fmt.Fprintf(e.stdout, "Crossroads demo ready at %s in %.1f s (data in %s).\n", url, time.Since(start).Seconds(), c.Data)
				fmt.Fprintf(e.stdout, "Try: curl %s/public/authorizations   ·   Ctrl-C stops.\n", url)
			}},
		Data: c.Data, Persons: c.Persons, Seed: c.Seed, Progress: p.update,
	}
	c.apply(&cfg.Config)
	return hub.Demo(e.ctx, cfg)
}

// ServeCmd runs the hub on named stores.
type ServeCmd struct {
	Addr            string   `help:"Address to listen on." default:"127.0.0.1:8080" env:"CROSSROADS_ADDR"`
	Store           string   `help:"Store of the hub: sqlite:PATH or postgres://…" required:"" env:"CROSSROADS_STORE"`
	Civil           string   `help:"Store of the built-in civil register (default: the hub's store)." env:"CROSSROADS_CIVIL"`
	Keys            string   `help:"File of the hub's signing keys (tokens, audit checkpoints); created if missing, mode 0600." default:"./crossroads-hub-keys.json" env:"CROSSROADS_KEY_FILE"`
	BuiltinOverHTTP bool     `help:"Reach the built-in sources over HTTP, as remote ones." env:"CROSSROADS_BUILTIN_OVER_HTTP"`
	DCIPrefix       string   `name:"dci-prefix" help:"Where the DCI registries are mounted: PREFIX/{${registries}}/registry/…; / for the root." default:"/dci" env:"CROSSROADS_DCI_PREFIX"`
	NATS            string   `name:"nats" help:"The event bus: empty for an embedded NATS JetStream, or nats://… for an external server or cluster." env:"CROSSROADS_NATS"`
	NATSDir         string   `name:"nats-dir" help:"Where the embedded JetStream keeps its files (default: beside an SQLite store, else ./crossroads-nats)." env:"CROSSROADS_NATS_DIR"`
	PublicURL       string   `name:"public-url" help:"Where clients reach the hub, when not at the listening address (behind a proxy): the issuer of its tokens, the audience of client assertions, the base of its callback URLs." env:"CROSSROADS_PUBLIC_URL"`
	Durability      string   `help:"What an exchange's audit record survives once answered: process (a crash of the process) or power (a loss of power; each journal write synced, SQLite at synchronous=FULL)." enum:"process,power" default:"process" env:"CROSSROADS_DURABILITY"`
	WitnessKey      []string `name:"witness-key" help:"Verifier key of a witness whose cosigned checkpoints the hub takes and serves (repeat for several)." env:"CROSSROADS_WITNESS_KEYS"`
	Replicas        int      `help:"How many replicas of the hub serve the same clients on this store (behind one load balancer): each enforces 1/N of the per-client limits (failed authentications, expensive questions), so that together they allow what one hub would." default:"1" env:"CROSSROADS_REPLICAS"`
	ConnFlags       `embed:""`
	PortalFlags     `embed:""`
}

func (c *ServeCmd) Run(e *env) error {
	durability, err := audit.ParseDurability(c.Durability)
	if err != nil {
		return err
	}
	cfg := hub.Config{Addr: c.Addr, Store: c.Store, Civil: c.Civil, Log: e.log, Out: e.stdout, Version: version,
		KeyFile: c.Keys, BuiltinOverHTTP: c.BuiltinOverHTTP, DCIPrefix: c.DCIPrefix, NATS: c.NATS, NATSDir: c.NATSDir, PublicURL: c.PublicURL,
		Durability: durability, Witnesses: c.WitnessKey, Replicas: c.Replicas}
	if c.Replicas < 1 {
		return fmt.Errorf("--replicas must be at least 1")
	}
	c.ConnFlags.apply(&cfg)
	c.PortalFlags.apply(&cfg)
	st, err := hub.Open(e.ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	return hub.Serve(e.ctx, cfg, st)
}

// SynthCmd generates a nation into stores.
type SynthCmd struct {
	Store   string `help:"Store of the hub: sqlite:PATH or postgres://…" required:"" env:"CROSSROADS_STORE"`
	Civil   string `help:"Store of the civil register (default: the hub's store)." env:"CROSSROADS_CIVIL"`
	Persons int    `help:"Number of persons." default:"100000"`
	Seed    uint64 `help:"Seed: the same seed, size and date give the same nation." default:"1"`
	Today   string `help:"Reference date YYYY-MM-DD (default: today)."`
	// A quarter's declaration file of a nation already generated (#18).
	Quarter string `help:"Instead of a nation, write the quarterly declaration of this quarter (e.g. 2026Q3) of the nation in the store: a line per employment in force (relations recorded in the employment source when missing)."`
	Out     string `help:"With --quarter: the file to write (.jsonl, or .csv for CSV)." type:"path"`
}

func (c *SynthCmd) Run(e *env) error {
	if c.Quarter != "" || c.Out != "" {
		return c.writeQuarter(e)
	}
	today := date.FromTime(time.Now())
	if c.Today != "" {
		d, err := date.Parse(c.Today)
		if err != nil {
			return fmt.Errorf("--today: %w", err)
		}
		today = d
	}
	st, err := hub.Open(e.ctx, hub.Config{Store: c.Store, Civil: c.Civil, Log: e.log})
	if err != nil {
		return err
	}
	defer st.Close()
	if n, _, err := st.Civil.Population().Count(e.ctx); err != nil {
		return err
	} else if n > 0 {
		return fmt.Errorf("the civil register already holds %d persons; generate into an empty store", n)
	}
	p := newProgress(e.stderr)
	start := time.Now()
	sum, err := synth.Generate(e.ctx, synth.Config{Seed: c.Seed, Persons: c.Persons, Today: today, Progress: p.update}, st.Civil.Population(), st.Directory)
	p.finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Generated in %.1f s: %d persons (%d deceased), %d households, %d places, %d employers, %d institutions, %d applications, %d services, %d authorizations, %d subscriptions, %d person-directory lines, %d events.\n",
		time.Since(start).Seconds(), sum.Persons, sum.Deceased, sum.Households, sum.Places, sum.Employers, sum.Institutions,
		sum.Applications, sum.Services, sum.Authorizations, sum.Subscriptions, sum.Integrations, sum.Events)
	return nil
}

func (c *SynthCmd) writeQuarter(e *env) error {
	q, err := employment.ParseQuarter(c.Quarter)
	if err != nil {
		return fmt.Errorf("--quarter: %w", err)
	}
	if c.Out == "" {
		return fmt.Errorf("--quarter needs --out FILE")
	}
	st, err := hub.Open(e.ctx, hub.Config{Store: c.Store, Civil: c.Civil, Log: e.log})
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := writeQuarter(e, st, q, c.Out)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Wrote %s: %d worker lines of %s.\n", c.Out, n, q)
	return nil
}
