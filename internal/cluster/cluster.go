package cluster

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bus"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// Config describes a cluster on one machine.
type Config struct {
	Bin      string // the crossroads binary the replicas run
	Postgres string // the database: a scratch schema of the cluster's own is made in it, dropped at Close
	Replicas int    // hub replicas (default 3)
	NATS     int    // NATS servers (default 3)
	Dir      string // the keys and NATS files
	Persons  int    // the synthetic nation generated into the schema (default 2000)
	Seed     uint64
	Addr     string // where the balancer listens ("": 127.0.0.1, a free port)
	LogLevel string // the replicas' (default info)
	// Prepare, if set, runs on the schema once the nation is in it, before any replica
	// starts (a test points a subscription at its inbox).
	Prepare func(store string) error
	// Keep keeps the scratch schema at Close (its address is printed).
	Keep bool
	Out  io.Writer // progress lines; nil: none
}

// Cluster is a running set: the NATS cluster, the replicas and the balancer.
type Cluster struct {
	Store    string // the scratch schema's address
	NATS     *bus.Cluster
	Replicas []*Replica
	Balancer *Balancer
	URL      string // the balancer's
	Keys     string // the replicas' shared key file

	cfg  Config
	drop func() error
	srv  *http.Server
}

// Start makes the schema and the nation, starts the NATS cluster, the replicas (the
// first alone: it creates the shared key file) and the balancer.
func Start(ctx context.Context, cfg Config) (c *Cluster, err error) {
	cfg.Replicas = cmpOr(cfg.Replicas, 3)
	cfg.NATS = cmpOr(cfg.NATS, 3)
	cfg.Persons = cmpOr(cfg.Persons, 2000)
	cfg.LogLevel = cmpOrS(cfg.LogLevel, "info")
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	c = &Cluster{cfg: cfg, Keys: filepath.Join(cfg.Dir, "hub-keys.json")}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if c.Store, c.drop, err = sqlstore.Scratch(ctx, cfg.Postgres); err != nil {
		return nil, fmt.Errorf("cluster: a scratch schema in %s: %w", redact(cfg.Postgres), err)
	}
	fmt.Fprintf(cfg.Out, "PostgreSQL: a scratch schema, %s\n", redact(c.Store))
	out, err := exec.CommandContext(ctx, cfg.Bin, "synth", "--store", c.Store, "--persons", fmt.Sprint(cfg.Persons), "--seed", fmt.Sprint(cfg.Seed)).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("cluster: generate the nation: %v\n%s", err, out)
	}
	fmt.Fprintf(cfg.Out, "Nation: %s", lastLine(string(out)))
	if cfg.Prepare != nil {
		if err := cfg.Prepare(c.Store); err != nil {
			return nil, err
		}
	}
	if c.NATS, err = bus.StartCluster(ctx, filepath.Join(cfg.Dir, "nats"), "crossroads", cfg.NATS); err != nil {
		return nil, err
	}
	fmt.Fprintf(cfg.Out, "NATS JetStream cluster of %d servers: %s\n", cfg.NATS, c.NATS.URL())
	var urls []string
	for i := range cfg.Replicas {
		addr, err := FreeAddr()
		if err != nil {
			return nil, err
		}
		r := &Replica{Name: fmt.Sprintf("replica-%d", i+1), Bin: cfg.Bin, Addr: addr, Log: &Buffer{},
			LogFile: filepath.Join(cfg.Dir, fmt.Sprintf("replica-%d.log", i+1)),
			Args: []string{"--log-level", cfg.LogLevel, "serve", "--store", c.Store, "--nats", c.NATS.URL(), "--keys", c.Keys, "--replicas", strconv.Itoa(cfg.Replicas),
				"--public-url", "http://crossroads.cluster.test"}}
		if err := r.Start(ctx); err != nil {
			c.Replicas = append(c.Replicas, r)
			return nil, err
		}
		c.Replicas = append(c.Replicas, r)
		urls = append(urls, r.URL())
		fmt.Fprintf(cfg.Out, "Hub %s: %s\n", r.Name, r.URL())
	}
	c.Balancer = NewBalancer(urls)
	ln, err := net.Listen("tcp", cmpOrS(cfg.Addr, "127.0.0.1:0"))
	if err != nil {
		return nil, fmt.Errorf("cluster: the balancer: %w", err)
	}
	c.URL = "http://" + ln.Addr().String()
	c.srv = &http.Server{Handler: c.Balancer, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = c.srv.Serve(ln) }()
	fmt.Fprintf(cfg.Out, "Load balancer (round robin): %s\nThe replicas' logs: %s\n", c.URL, filepath.Join(cfg.Dir, "replica-*.log"))
	return c, nil
}

// Close stops the balancer, the replicas (SIGTERM), the NATS cluster, and drops the schema
// unless Keep.
func (c *Cluster) Close() error {
	if c.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = c.srv.Shutdown(ctx)
		cancel()
	}
	for _, r := range c.Replicas {
		r.Stop()
	}
	if c.NATS != nil {
		c.NATS.Shutdown()
	}
	if c.drop == nil {
		return nil
	}
	if c.cfg.Keep {
		fmt.Fprintf(c.cfg.Out, "The scratch schema is kept: %s\nVerify its audit log (with the password, if any, in place of ***): crossroads audit verify --store '%s' --keys %s\n",
			redact(c.Store), redact(c.Store), c.Keys)
		return nil
	}
	return c.drop()
}

// Bin is the binary the replicas run.
func (c *Cluster) Bin() string { return c.cfg.Bin }

// Event is something the chaos did.
type Event struct {
	Time    time.Time
	Replica int
	What    string // "killed", "restarted", "restart failed: …"
}

// Chaos kills a random running replica (SIGKILL) every `every`, and starts it again
// `down` later, until ctx ends; it reports each step to on.
func (c *Cluster) Chaos(ctx context.Context, every, down time.Duration, rnd *rand.Rand, on func(Event)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		i := rnd.IntN(len(c.Replicas))
		r := c.Replicas[i]
		at := time.Now()
		r.Kill()
		on(Event{Time: at, Replica: i, What: "killed"})
		select {
		case <-ctx.Done():
			return // Close stops the others
		case <-time.After(down):
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
		err := r.Start(sctx)
		cancel()
		if err != nil {
			on(Event{Time: time.Now(), Replica: i, What: "restart failed: " + err.Error()})
			continue
		}
		on(Event{Time: time.Now(), Replica: i, What: "restarted"})
	}
}

// Secret returns a new client secret of application app (`crossroads directory secret`).
func (c *Cluster) Secret(ctx context.Context, app string) (string, error) {
	out, err := exec.CommandContext(ctx, c.cfg.Bin, "directory", "--store", c.Store, "secret", app).Output()
	if err != nil {
		return "", fmt.Errorf("cluster: a secret for %s: %w", app, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// redact hides a password in a database address.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if j := strings.Index(dsn[i+3:], "@"); j >= 0 {
			if k := strings.Index(dsn[i+3:i+3+j], ":"); k >= 0 {
				return dsn[:i+3+k+1] + "***" + dsn[i+3+j:]
			}
		}
	}
	return dsn
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1] + "\n"
}

func cmpOr(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

func cmpOrS(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
