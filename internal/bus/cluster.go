package bus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crossroads-hub/crossroads/internal/perm"
)

// Cluster is a NATS JetStream cluster of servers running in this process, each with a
// client port and a route port on 127.0.0.1: what the tests of several hub replicas and
// `crossroads cluster demo` use in place of a cluster of machines. The servers speak to
// each other over real routes (TCP), elect a JetStream meta leader and keep each stream
// of three replicas on all three, so one server may stop and the others go on.
type Cluster struct {
	servers []*server.Server
	opts    []*server.Options
}

// StartCluster starts n servers (n ≥ 1) clustered under name, their files under dir,
// and waits until JetStream answers through every one of them.
func StartCluster(ctx context.Context, dir, name string, n int) (*Cluster, error) {
	if n < 1 {
		return nil, errors.New("bus: a cluster needs at least one server")
	}
	if err := perm.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("bus: create the cluster's folder: %w", err)
	}
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	var routes []*url.URL
	for i := range n {
		routes = append(routes, &url.URL{Scheme: "nats", Host: "127.0.0.1:" + strconv.Itoa(ports[n+i])})
	}
	c := &Cluster{}
	for i := range n {
		o := &server.Options{
			ServerName: fmt.Sprintf("%s-%d", name, i+1), Host: "127.0.0.1", Port: ports[i],
			JetStream: true, StoreDir: filepath.Join(dir, strconv.Itoa(i+1)), NoSigs: true, NoLog: !debugCluster,
		}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: name, Host: "127.0.0.1", Port: ports[n+i]}
			o.Routes = routes
		}
		c.opts = append(c.opts, o)
		if err := c.start(i); err != nil {
			c.Shutdown()
			return nil, err
		}
	}
	if err := c.waitReady(ctx); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

// start starts server i from its options (again after Stop).
func (c *Cluster) start(i int) error {
	s, err := server.NewServer(c.opts[i])
	if err != nil {
		return fmt.Errorf("bus: cluster server %d: %w", i+1, err)
	}
	if debugCluster {
		s.ConfigureLogger()
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("bus: cluster server %d did not start within 10 s", i+1)
	}
	if i < len(c.servers) {
		c.servers[i] = s
	} else {
		c.servers = append(c.servers, s)
	}
	return nil
}

// waitReady waits until JetStream answers through each server (a meta leader is
// elected and every server knows it) and each server is current (its health check: the
// replicas of streams and consumers it keeps have caught up), so that stopping another
// one next leaves a quorum.
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for i := range c.servers {
		if c.servers[i] == nil {
			continue
		}
		for {
			err := jetStreamAnswers(ctx, c.servers[i].ClientURL())
			if err == nil {
				if h := c.servers[i].Healthz(&server.HealthzOptions{}); h.Status != "ok" {
					err = fmt.Errorf("server %d not current: %s", i+1, h.Error)
				}
			}
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("bus: the cluster's JetStream did not answer through server %d: %w", i+1, err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

func jetStreamAnswers(ctx context.Context, u string) error {
	nc, err := nats.Connect(u, nats.Timeout(2*time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	actx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = js.AccountInfo(actx)
	return err
}

// URL is the addresses of all the servers, comma-separated: what a client (`crossroads
// serve --nats`) is given, so that it reaches the cluster through any server that runs.
func (c *Cluster) URL() string {
	var out []string
	for _, o := range c.opts {
		out = append(out, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
	}
	return strings.Join(out, ",")
}

// Size is the number of servers, running or stopped.
func (c *Cluster) Size() int { return len(c.opts) }

// Stop stops server i (from 0); Restart starts it again on the same ports and files.
func (c *Cluster) Stop(i int) {
	if s := c.servers[i]; s != nil {
		s.Shutdown()
		s.WaitForShutdown()
		c.servers[i] = nil
	}
}

// Restart starts server i again after Stop and waits until JetStream answers through it.
func (c *Cluster) Restart(ctx context.Context, i int) error {
	if c.servers[i] != nil {
		return nil
	}
	if err := c.start(i); err != nil {
		return err
	}
	return c.waitReady(ctx)
}

// Shutdown stops every server.
func (c *Cluster) Shutdown() {
	for i := range c.servers {
		c.Stop(i)
	}
}

// freePorts returns n ports that were free on 127.0.0.1 a moment ago.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var out []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("bus: find a free port: %w", err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

var debugCluster = false
