package cluster_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/cluster"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/synth"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// binary builds cmd/crossroads once per test binary.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "crossroads-cluster-bin-"); binErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "crossroads"), "github.com/crossroads-hub/crossroads/cmd/crossroads").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "crossroads")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// started is a cluster of the test's own with a subscriber of moves and a client's token.
type started struct {
	c       *cluster.Cluster
	inbox   *cluster.Inbox
	persons []string
	sub     string
	token   string
}

// startCluster starts three replicas on a scratch schema of CROSSROADS_TEST_POSTGRES and
// a 3-node NATS cluster, the pension fund's subscription pointed at an inbox of the test.
func startCluster(t *testing.T) *started {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary and runs three replicas; not in -short")
	}
	dsn := os.Getenv("CROSSROADS_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("CROSSROADS_TEST_POSTGRES not set: replicas on one PostgreSQL are not tried")
	}
	ctx := context.Background()
	s := &started{inbox: &cluster.Inbox{}, sub: "sub-" + strings.ToLower(synth.PensionFund)}
	rcv := httptest.NewServer(s.inbox)
	t.Cleanup(rcv.Close)
	var logs strings.Builder
	c, err := cluster.Start(ctx, cluster.Config{Bin: binary(t), Postgres: dsn, Dir: t.TempDir(), Persons: 2000, Seed: 11, Out: &logs,
		Prepare: func(store string) (err error) {
			s.persons, err = cluster.Subscribe(ctx, store, s.sub, rcv.URL+"/"+s.sub, 8)
			return err
		}})
	if err != nil {
		t.Fatalf("start the cluster: %v\n%s", err, logs.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, r := range c.Replicas {
				t.Logf("%s's warnings and errors:\n%s", r.Name, notable(r.Log.String(), 8000))
			}
		}
		if err := c.Close(); err != nil {
			t.Errorf("close the cluster: %v", err)
		}
	})
	s.c = c
	secret, err := c.Secret(ctx, synth.AppID(synth.HealthInsurer1))
	if err != nil {
		t.Fatal(err)
	}
	if s.token, err = outbound.ClientToken(ctx, nil, c.URL+oauth.TokenPath, synth.AppID(synth.HealthInsurer1), secret); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRollingRestart stops the replicas one at a time (SIGTERM) under load through the
// round-robin balancer, and starts each again before the next, then the NATS servers
// likewise (the changes recorded until each stop delivered meanwhile): every exchange answered
// 200 is in the audit log exactly once, bound to the answer received; every change
// recorded meanwhile reaches the subscriber, in order per person; the log verifies; and
// clients see at most their in-flight requests fail.
func TestRollingRestart(t *testing.T) {
	s := startCluster(t)
	ctx := context.Background()
	mover, err := cluster.OpenMover(ctx, s.c.Store, s.sub, s.persons)
	if err != nil {
		t.Fatal(err)
	}
	defer mover.Close()

	const clients = 4
	load := &cluster.Load{URL: s.c.URL, Token: s.token, Person: synth.FixtureNumber, Clients: clients, Prefix: "rolling-"}
	lctx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); load.Run(lctx) }()
	go func() {
		defer wg.Done()
		for lctx.Err() == nil {
			if err := mover.Move(ctx); err != nil {
				t.Errorf("record a change: %v", err)
				return
			}
			time.Sleep(20 * time.Millisecond) // a steady trickle of changes, not a measurement
		}
	}()
	answeredAtLeast := func(n int) func() error {
		return func() error {
			if ok, _ := load.Counts(); ok < n {
				return fmt.Errorf("%d exchanges answered; want %d", ok, n)
			}
			return nil
		}
	}
	testwait.For(t, 60*time.Second, answeredAtLeast(50))
	for i, r := range s.c.Replicas {
		r.Stop()
		ok, _ := load.Counts()
		testwait.For(t, 60*time.Second, answeredAtLeast(ok+50)) // the others go on
		if err := r.Start(ctx); err != nil {
			t.Fatalf("start replica %d again: %v", i, err)
		}
		ok, _ = load.Counts()
		testwait.For(t, 60*time.Second, answeredAtLeast(ok+50))
	}
	// Then the NATS servers, one at a time, under the same load: the streams and
	// consumers, kept on three, elect new leaders; the replicas connected to the stopped
	// one reconnect to another; a lane whose pull request was on it asks again (bus).
	for i := range s.c.NATS.Size() {
		s.c.NATS.Stop(i)
		n, stopped := len(mover.Recorded()), time.Now()
		testwait.For(t, 60*time.Second, func() error {
			if d := cluster.CheckDelivery(mover.Recorded()[:n], s.inbox.Copies()); d.Missing > 0 {
				return fmt.Errorf("NATS server %d stopped: %d of %d changes not delivered yet", i, d.Missing, n)
			}
			return nil
		})
		t.Logf("NATS server %d stopped: the %d changes recorded before, delivered within %v", i+1, n, time.Since(stopped).Round(time.Millisecond))
		ok, _ := load.Counts()
		testwait.For(t, 60*time.Second, answeredAtLeast(ok+50))
		if err := s.c.NATS.Restart(ctx, i); err != nil {
			t.Fatalf("start NATS server %d again: %v", i, err)
		}
	}
	stopLoad()
	wg.Wait()

	var astray, resumed int
	for _, r := range s.c.Replicas {
		astray += strings.Count(r.Log.String(), "a lane's delivery went astray")
		resumed += strings.Count(r.Log.String(), "a lane resumes after its last acknowledged message")
	}
	t.Logf("lanes: %d deliveries found astray, %d lanes resumed from their acknowledgement floor", astray, resumed)
	answered, failed := load.Results()
	t.Logf("%d exchanges answered, %d failed, %d changes recorded during %d rolling restarts", len(answered), len(failed), len(mover.Recorded()), len(s.c.Replicas))
	if len(failed) > clients*len(s.c.Replicas) {
		t.Errorf("%d requests failed; want at most the in-flight ones (%d clients × %d restarts): %v", len(failed), clients, len(s.c.Replicas), failed[:min(len(failed), 5)])
	}
	v, err := cluster.CheckAudit(ctx, s.c.Store, answered)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the audit log holds %d records", v.Records)
	if v.Lost > 0 || v.Repeated > 0 {
		t.Errorf("of %d answered exchanges, %d lost and %d recorded more than once: %v", len(answered), v.Lost, v.Repeated, v.Problems)
	}
	recorded := mover.Recorded()
	var d cluster.Delivery
	err = testwait.Until(60*time.Second, func() error {
		if d = cluster.CheckDelivery(recorded, s.inbox.Copies()); d.Missing > 0 {
			return fmt.Errorf("%d of %d changes not delivered", d.Missing, len(recorded))
		}
		return nil
	})
	if err != nil || d.OutOfOrder > 0 {
		t.Errorf("changes: %d recorded, %d missing, %d out of order per person: %v", d.Recorded, d.Missing, d.OutOfOrder, d.Problems)
	}
	out, _ := exec.Command(s.c.Bin(), "audit", "verify", "--store", s.c.Store, "--keys", s.c.Keys).CombinedOutput()
	if !strings.Contains(string(out), "audit log OK") {
		t.Errorf("audit verify: %s", out)
	}
	for _, r := range s.c.Replicas {
		for _, bad := range []string{"audit batch failed", "audit checkpoint failed"} {
			if strings.Contains(r.Log.String(), bad) {
				t.Errorf("%s logged %q", r.Name, bad)
			}
		}
	}
}

// notable is the last n bytes of a replica's log lines above INFO, and of those naming a
// lane or the lease (what goes wrong in a cluster shows there, not in the requests).
func notable(log string, n int) string {
	var b strings.Builder
	for line := range strings.Lines(log) {
		if !strings.Contains(line, `"level":"INFO"`) || strings.Contains(line, "lane") || strings.Contains(line, "lease") {
			b.WriteString(line)
		}
	}
	s := b.String()
	return s[max(0, len(s)-n):]
}
