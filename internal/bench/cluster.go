package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crossroads-hub/crossroads/internal/cluster"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// ClusterOptions configure Cluster.
type ClusterOptions struct {
	Binary   string // the crossroads binary the replicas run
	Postgres string // the database (a scratch schema is made in it)
	Persons  int
	Clients  int           // concurrent clients of the throughput runs
	Phase    time.Duration // each throughput run
	Replicas []int         // the throughput runs: with so many replicas each (at most 3)
	Chaos    time.Duration // the run with a replica killed every KillEvery; 0: none
	// KillEvery is how often a random replica is killed (SIGKILL) in the chaos run; Down
	// how long it stays down before it is started again.
	KillEvery, Down time.Duration
	// AuditFor is each audit-append run (1, 2, 3 logs on one schema); 0: none.
	AuditFor time.Duration
	// AuditAppenders is how many goroutines append through each log (default 256);
	// AuditMaxBatch the records a log commits at once at most (default the log's, 512).
	AuditAppenders, AuditMaxBatch int
	Progress                      io.Writer // a line per step; nil: none
}

// Cluster measures the hub's replicas on one PostgreSQL and a 3-node NATS cluster (#17):
// exchanges per second through the round-robin balancer with 1, 2 and 3 replicas (with
// their processor time and the machine's per exchange); a run under load where a random
// replica is killed every KillEvery and started again (answered exchanges lost or
// repeated, changes lost, per-person order violations, the time another replica took
// each lease the killed one held); and audit appends per second through 1, 2 and 3 logs
// on one schema.
func Cluster(ctx context.Context, o ClusterOptions) (*Result, error) {
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	r := newResult("cluster")
	r.add("load_average", "load average (1 min) at start", loadAverage(), "")
	r.add("cores", "processors", runtime.NumCPU(), "")
	if len(o.Replicas) > 0 || o.Chaos > 0 {
		if err := replicated(ctx, o, r); err != nil {
			return nil, err
		}
	}
	if o.AuditFor > 0 {
		if err := auditAppends(ctx, o, r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// replicated makes the runs through a cluster of 3 replicas.
func replicated(ctx context.Context, o ClusterOptions, r *Result) error {
	dir, err := os.MkdirTemp("", "crossroads-bench-cluster-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	inbox := &cluster.Inbox{}
	rcv := httptest.NewServer(inbox)
	defer rcv.Close()
	sub := "sub-" + strings.ToLower(synth.PensionFund)
	var persons []string
	c, err := cluster.Start(ctx, cluster.Config{Bin: o.Binary, Postgres: o.Postgres, Replicas: 3, NATS: 3, Dir: dir, Persons: o.Persons, Seed: 1,
		Out: o.Progress, Prepare: func(store string) (err error) {
			persons, err = cluster.Subscribe(ctx, store, sub, rcv.URL+"/"+sub, 32)
			return err
		}})
	if err != nil {
		return err
	}
	defer c.Close()
	app := synth.AppID(synth.HealthInsurer1)
	secret, err := c.Secret(ctx, app)
	if err != nil {
		return err
	}
	token, err := outbound.ClientToken(ctx, nil, c.URL+oauth.TokenPath, app, secret)
	if err != nil {
		return err
	}
	// What a replica costs doing nothing (its tickers: the directory's refresh, the
	// checkpoints, the leases it tries): paid once per replica, whatever the load.
	cpu0, t0 := replicasCPU(c.Replicas), time.Now()
	time.Sleep(5 * time.Second)
	idle := float64(replicasCPU(c.Replicas)-cpu0) / float64(time.Since(t0)) / float64(len(c.Replicas))
	r.add("replica_idle_cpu_percent", "a replica's CPU when idle", round(idle*100), "% of a core")
	if err := throughput(ctx, o, c, token, r); err != nil {
		return err
	}
	if o.Chaos > 0 {
		return chaos(ctx, o, c, token, sub, persons, inbox, r)
	}
	return nil
}

// throughput runs the load through 1, then 2, then 3 replicas (the others stopped).
func throughput(ctx context.Context, o ClusterOptions, c *cluster.Cluster, token string, r *Result) error {
	var one float64
	for _, n := range o.Replicas {
		if n < 1 || n > len(c.Replicas) {
			return fmt.Errorf("bench cluster: %d replicas: from 1 to %d", n, len(c.Replicas))
		}
		var urls []string
		for i, rep := range c.Replicas {
			if i < n && !rep.Running() {
				if err := rep.Start(ctx); err != nil {
					return err
				}
			}
			if i >= n {
				rep.Stop()
			} else {
				urls = append(urls, rep.URL())
			}
		}
		lb := httptest.NewServer(cluster.NewBalancer(urls))
		load := &cluster.Load{URL: lb.URL, Token: token, Person: synth.FixtureNumber, Clients: o.Clients, Prefix: fmt.Sprintf("tp%d-", n)}
		lctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); load.Run(lctx) }()
		time.Sleep(min(o.Phase/4, 3*time.Second)) // warm: connections, caches
		ok0, _ := load.Counts()
		cpu0 := replicasCPU(c.Replicas[:n])
		m0 := machineCPU()
		start := time.Now()
		time.Sleep(o.Phase)
		ok1, failed := load.Counts()
		cpu1 := replicasCPU(c.Replicas[:n])
		m1 := machineCPU()
		el := time.Since(start)
		stop()
		<-done
		lb.Close()
		ex := float64(ok1 - ok0)
		rate := ex / el.Seconds()
		if one == 0 {
			one = rate // the first run's, normally one replica's
		}
		fmt.Fprintf(o.Progress, "%d replica(s): %.0f exchanges/s\n", n, rate)
		r.add(fmt.Sprintf("replicas_%d_exchanges_per_s", n), fmt.Sprintf("%d replica(s): exchanges/s", n), round(rate), "")
		r.add(fmt.Sprintf("replicas_%d_ratio_to_one", n), fmt.Sprintf("%d replica(s): ratio to one", n), math.Round(rate/one*100)/100, "")
		if ex > 0 {
			r.add(fmt.Sprintf("replicas_%d_replica_cpu_us_per_exchange", n), fmt.Sprintf("%d replica(s): replicas' CPU per exchange", n), round(float64((cpu1-cpu0).Microseconds())/ex), "µs")
			if m1 > 0 {
				r.add(fmt.Sprintf("replicas_%d_machine_cpu_us_per_exchange", n), fmt.Sprintf("%d replica(s): machine's CPU per exchange (PostgreSQL, NATS, load incl.)", n), round(float64((m1-m0).Microseconds())/ex), "µs")
			}
		}
		r.add(fmt.Sprintf("replicas_%d_failed", n), fmt.Sprintf("%d replica(s): requests failed", n), failed, "")
	}
	return nil
}

// chaos runs the load and a trickle of changes through all the replicas while one is
// killed every KillEvery, then checks the audit log and the deliveries.
func chaos(ctx context.Context, o ClusterOptions, c *cluster.Cluster, token, sub string, persons []string, inbox *cluster.Inbox, r *Result) error {
	for _, rep := range c.Replicas {
		if !rep.Running() {
			if err := rep.Start(ctx); err != nil {
				return err
			}
		}
	}
	mover, err := cluster.OpenMover(ctx, c.Store, sub, persons)
	if err != nil {
		return err
	}
	defer mover.Close()
	load := &cluster.Load{URL: c.URL, Token: token, Person: synth.FixtureNumber, Clients: o.Clients, Prefix: "chaos-"}
	cctx, cancel := context.WithTimeout(ctx, o.Chaos)
	defer cancel()
	var wg sync.WaitGroup
	var moveErrs, restartsFailed atomic.Int64
	var mu sync.Mutex
	var kills []killed
	wg.Add(3)
	go func() { defer wg.Done(); load.Run(cctx) }()
	go func() {
		defer wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-cctx.Done():
				return
			case <-t.C:
				if mover.Move(ctx) != nil {
					moveErrs.Add(1)
				}
			}
		}
	}()
	go func() {
		defer wg.Done()
		c.Chaos(cctx, o.KillEvery, o.Down, mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 17)), func(ev cluster.Event) {
			fmt.Fprintf(o.Progress, "%s %s %s\n", ev.Time.Format("15:04:05.000"), c.Replicas[ev.Replica].Name, ev.What)
			if strings.HasPrefix(ev.What, "restart failed") {
				restartsFailed.Add(1)
			}
			if ev.What == "killed" {
				mu.Lock()
				kills = append(kills, killed{at: ev.Time, replica: ev.Replica})
				mu.Unlock()
			}
		})
	}()
	wg.Wait()
	// A replica the chaos left down comes back, so that every lease has a holder.
	for _, rep := range c.Replicas {
		if !rep.Running() {
			if err := rep.Start(ctx); err != nil {
				return err
			}
		}
	}
	answered, failed := load.Results()
	v, err := cluster.CheckAudit(ctx, c.Store, answered)
	if err != nil {
		return err
	}
	recorded := mover.Recorded()
	deadline := time.Now().Add(90 * time.Second)
	d := cluster.CheckDelivery(recorded, inbox.Copies())
	for d.Missing > 0 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		d = cluster.CheckDelivery(recorded, inbox.Copies())
	}
	takeovers := leaseTakeovers(c.Replicas, kills)
	for _, p := range append(v.Problems, d.Problems...) {
		fmt.Fprintln(o.Progress, "problem:", p)
	}
	r.add("chaos_seconds", "chaos run", o.Chaos.Seconds(), "s")
	r.add("chaos_kills", "chaos: replicas killed (SIGKILL)", len(kills), "")
	r.add("chaos_exchanges_answered", "chaos: exchanges answered 200", len(answered), "")
	r.add("chaos_exchanges_failed", "chaos: requests failed (in flight at a kill)", len(failed), "")
	r.add("chaos_acknowledged_lost", "chaos: answered exchanges not in the audit log", v.Lost, "")
	r.add("chaos_acknowledged_repeated", "chaos: answered exchanges recorded twice", v.Repeated, "")
	r.add("chaos_changes_recorded", "chaos: changes recorded", len(recorded), "")
	r.add("chaos_changes_lost", "chaos: changes never delivered", d.Missing, "")
	r.add("chaos_changes_redelivered", "chaos: copies delivered again (at least once)", d.Repeats, "")
	r.add("chaos_order_violations", "chaos: per-person order violations", d.OutOfOrder, "")
	r.add("chaos_lease_takeovers", "chaos: leases taken over after a kill", len(takeovers), "")
	r.add("chaos_lease_takeover_p50_ms", "chaos: lease takeover p50", ms(takeovers.percentile(50)), "ms")
	r.add("chaos_lease_takeover_p99_ms", "chaos: lease takeover p99", ms(takeovers.percentile(99)), "ms")
	r.add("chaos_lease_takeover_max_ms", "chaos: lease takeover max", ms(takeovers.percentile(100)), "ms")
	panics := 0
	for _, rep := range c.Replicas {
		panics += strings.Count(rep.Log.String(), "\npanic: ")
	}
	r.add("chaos_replica_panics", "chaos: replicas that panicked (not killed)", panics, "")
	r.add("chaos_restarts_failed", "chaos: restarts that failed", restartsFailed.Load(), "")
	if moveErrs.Load() > 0 {
		r.add("chaos_change_errors", "chaos: changes the register refused", moveErrs.Load(), "")
	}
	return nil
}

// killed is a replica the chaos killed.
type killed struct {
	at      time.Time
	replica int
}

func replicasCPU(rs []*cluster.Replica) time.Duration {
	var t time.Duration
	for _, r := range rs {
		t += r.CPU()
	}
	return t
}

func machineCPU() time.Duration { return cluster.MachineCPU() }

func processCPU() time.Duration { return cluster.ProcessCPU(0) }

// leaseTakeovers is, for each lease a killed replica held, the time from the kill until
// another replica logged it had taken it. The holder at a kill is the replica that last
// logged taking the lease before it.
func leaseTakeovers(rs []*cluster.Replica, kills []killed) latencies {
	type taken struct {
		at      time.Time
		replica int
	}
	byLease := map[string][]taken{}
	for i, r := range rs {
		for _, line := range strings.Split(r.Log.String(), "\n") {
			if !strings.Contains(line, `"msg":"lease taken"`) {
				continue
			}
			var e struct {
				Time  time.Time `json:"time"`
				Lease string    `json:"lease"`
			}
			if json.Unmarshal([]byte(line), &e) == nil {
				byLease[e.Lease] = append(byLease[e.Lease], taken{e.Time, i})
			}
		}
	}
	var out latencies
	for _, ts := range byLease {
		slices.SortFunc(ts, func(a, b taken) int { return a.at.Compare(b.at) })
		for _, k := range kills {
			holder := -1
			for _, t := range ts {
				if t.at.Before(k.at) {
					holder = t.replica
				}
			}
			if holder != k.replica {
				continue
			}
			for _, t := range ts {
				if t.at.After(k.at) {
					out = append(out, t.at.Sub(k.at))
					break
				}
			}
		}
	}
	return out
}
