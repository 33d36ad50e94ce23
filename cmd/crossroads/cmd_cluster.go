package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bench"
	"github.com/crossroads-hub/crossroads/internal/cluster"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// ClusterCmd groups the commands of several replicas on one machine (#17).
type ClusterCmd struct {
	Demo ClusterDemoCmd `cmd:"" help:"Start hub replicas on PostgreSQL, a 3-node NATS JetStream cluster and a round-robin load balancer on this machine; optionally kill a replica now and then and watch the others go on."`
}

// ClusterDemoCmd runs the cluster demo.
type ClusterDemoCmd struct {
	Postgres string        `help:"PostgreSQL to use: a scratch schema is made in it (dropped at the end unless --keep)." default:"postgres://postgres@127.0.0.1:5432/test?sslmode=disable" env:"CROSSROADS_POSTGRES"`
	Replicas int           `help:"Hub replicas." default:"3"`
	NATS     int           `name:"nats" help:"NATS servers in the JetStream cluster (run in this process)." default:"3"`
	Addr     string        `help:"Where the load balancer listens." default:"127.0.0.1:8090"`
	Persons  int           `help:"Persons of the synthetic nation." default:"2000"`
	Chaos    time.Duration `help:"Kill (SIGKILL) a random replica this often and start it again after --down; 0: never." default:"0s"`
	Down     time.Duration `help:"How long a killed replica stays down." default:"3s"`
	Load     int           `help:"Clients sending exchanges through the balancer (and changes of address recorded in the register, followed by a subscriber); 0: none." default:"2"`
	For      time.Duration `help:"Stop after running this long once ready; 0: at Ctrl-C." default:"0s"`
	Every    time.Duration `help:"How often a status line is printed." default:"5s"`
	Keep     bool          `help:"Keep the scratch schema, and the folder of the keys, at the end (the command to verify the log is printed)."`
	Dir      string        `help:"Folder of the keys and NATS files (default: a temporary one, removed at the end)." type:"path"`
	Bin      string        `help:"The crossroads binary the replicas run (default: this one)." hidden:""`
}

func (c *ClusterDemoCmd) Run(e *env) error {
	if c.Replicas < 1 || c.Replicas > 16 || c.NATS < 1 || c.NATS > 7 {
		return fmt.Errorf("--replicas must be from 1 to 16 and --nats from 1 to 7")
	}
	bin, dir, cleanup, err := c.paths()
	if err != nil {
		return err
	}
	defer cleanup()
	ctx := e.ctx
	inbox := &cluster.Inbox{}
	rcv := httptest.NewServer(inbox)
	defer rcv.Close()
	sub := "sub-" + strings.ToLower(synth.PensionFund)
	var persons []string
	cl, err := cluster.Start(ctx, cluster.Config{Bin: bin, Postgres: c.Postgres, Replicas: c.Replicas, NATS: c.NATS, Dir: dir,
		Persons: c.Persons, Seed: 1, Addr: c.Addr, Keep: c.Keep, Out: e.stdout,
		Prepare: func(store string) (err error) {
			persons, err = cluster.Subscribe(ctx, store, sub, rcv.URL+"/"+sub, 16)
			return err
		}})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(e.stdout, "Stopping the replicas and the NATS cluster…")
		if err := cl.Close(); err != nil {
			fmt.Fprintln(e.stderr, "crossroads: close the cluster:", err)
		}
	}()
	fmt.Fprintf(e.stdout, "Ready. Send requests to %s (any replica answers); a replica's own port answers too.\n", cl.URL)
	fmt.Fprintf(e.stdout, "Try: curl %s/readyz   ·   kill one: kill -9 <pid of a 'crossroads serve'>   ·   Ctrl-C stops.\n", cl.URL)
	if c.For > 0 { // counted from here: starting takes longer on a busy machine
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.For)
		defer cancel()
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	var load *cluster.Load
	var mover *cluster.Mover
	if c.Load > 0 {
		if load, mover, err = startDemoLoad(ctx, &wg, cl, c.Load, sub, persons); err != nil {
			return err
		}
	}
	if c.Chaos > 0 {
		fmt.Fprintf(e.stdout, "Chaos: a random replica is killed every %v and started again %v later.\n", c.Chaos, c.Down)
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl.Chaos(ctx, c.Chaos, c.Down, rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)), func(ev cluster.Event) {
				fmt.Fprintf(e.stdout, "%s %s %s\n", ev.Time.Format("15:04:05"), cl.Replicas[ev.Replica].Name, ev.What)
			})
		}()
	}
	c.watch(ctx, e, cl, load, mover, inbox)
	return nil
}

// paths are the binary the replicas run and the folder of their files.
func (c *ClusterDemoCmd) paths() (bin, dir string, cleanup func(), err error) {
	bin = c.Bin
	if bin == "" {
		if bin, err = os.Executable(); err != nil {
			return "", "", nil, err
		}
	}
	if c.Dir != "" {
		return bin, c.Dir, func() {}, nil
	}
	dir, err = os.MkdirTemp("", "crossroads-cluster-")
	if err != nil {
		return "", "", nil, err
	}
	if c.Keep { // the key file verifies the kept log's checkpoints
		return bin, dir, func() {}, nil
	}
	return bin, dir, func() { os.RemoveAll(dir) }, nil
}

// startDemoLoad sends exchanges through the balancer and records a change of address
// every 200 ms, until ctx ends.
func startDemoLoad(ctx context.Context, wg *sync.WaitGroup, cl *cluster.Cluster, clients int, sub string, persons []string) (*cluster.Load, *cluster.Mover, error) {
	app := synth.AppID(synth.HealthInsurer1)
	secret, err := cl.Secret(ctx, app)
	if err != nil {
		return nil, nil, err
	}
	newToken := func(ctx context.Context) (string, error) {
		return outbound.ClientToken(ctx, nil, cl.URL+oauth.TokenPath, app, secret)
	}
	token, err := newToken(ctx)
	if err != nil {
		return nil, nil, err
	}
	mover, err := cluster.OpenMover(ctx, cl.Store, sub, persons)
	if err != nil {
		return nil, nil, err
	}
	load := &cluster.Load{URL: cl.URL, Token: token, Renew: newToken, Person: synth.FixtureNumber, Clients: clients, Prefix: "demo-"}
	wg.Add(2)
	go func() { defer wg.Done(); load.Run(ctx) }()
	go func() {
		defer wg.Done()
		defer mover.Close()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = mover.Move(ctx) // a failure shows as a change fewer recorded
			}
		}
	}()
	return load, mover, nil
}

// watch prints a status line every c.Every until ctx ends, and a summary.
func (c *ClusterDemoCmd) watch(ctx context.Context, e *env, cl *cluster.Cluster, load *cluster.Load, mover *cluster.Mover, inbox *cluster.Inbox) {
	status := func() string {
		served, failed := cl.Balancer.Stats()
		var parts []string
		for i, r := range cl.Replicas {
			state := "up"
			if !r.Running() {
				state = "DOWN"
			}
			parts = append(parts, fmt.Sprintf("%s %s %d", r.Name, state, served[i]))
		}
		line := strings.Join(parts, " · ") + fmt.Sprintf(" · balancer failed %d", failed)
		if load != nil {
			ok, bad := load.Counts()
			d := cluster.CheckDelivery(mover.Recorded(), inbox.Copies())
			line += fmt.Sprintf(" · exchanges %d ok %d failed · changes %d recorded %d not yet delivered %d out of order", ok, bad, d.Recorded, d.Missing, d.OutOfOrder)
		}
		return line
	}
	t := time.NewTicker(max(c.Every, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(e.stdout, "%s %s\n", time.Now().Format("15:04:05"), status())
			return
		case <-t.C:
			fmt.Fprintf(e.stdout, "%s %s\n", time.Now().Format("15:04:05"), status())
		}
	}
}

// BenchClusterCmd measures replicas (#17).
type BenchClusterCmd struct {
	Postgres  string        `help:"PostgreSQL to use: scratch schemas are made in it and dropped." default:"postgres://postgres@127.0.0.1:5432/test?sslmode=disable" env:"CROSSROADS_POSTGRES"`
	Persons   int           `help:"Persons of the synthetic nation." default:"2000"`
	Clients   int           `help:"Concurrent clients." default:"16"`
	Phase     time.Duration `help:"Each throughput run (1, 2, 3 replicas)." default:"20s"`
	Chaos     time.Duration `help:"The run where a random replica is killed every --kill-every; 0: none." default:"2m"`
	KillEvery time.Duration `help:"How often a replica is killed (SIGKILL) in the chaos run." default:"10s"`
	Down      time.Duration `help:"How long a killed replica stays down." default:"2s"`
	AuditFor  time.Duration `name:"audit-for" help:"Each audit-append run (1, 2, 3 logs on one schema); 0: none." default:"10s"`
	Appenders int           `help:"Goroutines appending through each log in the audit runs." default:"256"`
	MaxBatch  int           `name:"max-batch" help:"Records a log commits at once at most in the audit runs; 0: the log's default (512)." default:"0"`
	Replicas  []int         `help:"Which runs to make: throughput with these numbers of replicas." default:"1,2,3"`
	Bin       string        `help:"The crossroads binary the replicas run (default: this one)." hidden:""`
}

func (c *BenchClusterCmd) Run(e *env, b *BenchCmd) error {
	bin := c.Bin
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return err
		}
	}
	if c.Clients < 1 || c.Phase <= 0 || c.KillEvery <= 0 {
		return fmt.Errorf("--clients, --phase and --kill-every must be positive")
	}
	r, err := bench.Cluster(e.ctx, bench.ClusterOptions{Binary: bin, Postgres: c.Postgres, Persons: c.Persons, Clients: c.Clients,
		Phase: c.Phase, Chaos: c.Chaos, KillEvery: c.KillEvery, Down: c.Down, AuditFor: c.AuditFor,
		AuditAppenders: c.Appenders, AuditMaxBatch: c.MaxBatch, Replicas: c.Replicas, Progress: e.stderr})
	if err != nil {
		return err
	}
	return r.Print(e.stdout, b.JSON)
}
