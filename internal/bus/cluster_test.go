package bus_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bus"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// TestCluster runs the bus on a 3-node JetStream cluster of the test's own: a stream
// kept on three servers goes on taking and handing out messages, in order, while any one
// server is stopped, and a lane's acknowledgements survive it.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three clustered NATS servers; not in -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, b := openCluster(ctx, t)
	if got := bus.Replicas(b); got != 3 {
		t.Fatalf("a client of a 3-node cluster keeps streams on %d servers; want 3", got)
	}
	if err := b.Stream(ctx, bus.Stream{Name: "CL", Subjects: []string{"cl.>"}, Duplicates: time.Minute}); err != nil {
		t.Fatal(err)
	}
	lane := bus.Lane{Stream: "CL", Name: "cl-lane", Subject: "cl.>", MaxAckPending: 100, AckWait: 5 * time.Second}
	var want []string
	publish := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			n := strconv.Itoa(i)
			// While the two left elect a new leader of the stream, a publish may find
			// none: a publisher tries again (the id makes a repeat harmless).
			err := testwait.Until(20*time.Second, func() error {
				pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				_, err := b.Publish(pctx, bus.Msg{Subject: "cl.x", Data: []byte(n), ID: "m" + n})
				return err
			})
			if err != nil {
				t.Fatalf("publish %d: %v", i, err)
			}
			want = append(want, n)
		}
	}
	var got []string
	read := func(n int) {
		t.Helper()
		var q *bus.Queue
		err := testwait.Until(20*time.Second, func() (err error) {
			lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			q, err = b.Lane(lctx, lane)
			return err
		})
		if err != nil {
			t.Fatalf("lane after %d read: %v", len(got), err)
		}
		for len(got) < n {
			// A consumer just made, or whose leader just stopped, may have no leader for a
			// moment ("no responders"): a reader asks again.
			var msgs []*bus.Received
			err := testwait.Until(20*time.Second, func() (err error) {
				rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
				defer rcancel()
				if msgs, err = q.Next(rctx, n-len(got)); err == nil && len(msgs) == 0 {
					err = errors.New("nothing yet")
				}
				return err
			})
			if err != nil {
				t.Fatalf("read after %d of %d: %v", len(got), n, err)
			}
			for _, m := range msgs {
				got = append(got, string(m.Data()))
			}
			if err := msgs[len(msgs)-1].AckSync(ctx); err != nil {
				t.Fatalf("ack: %v", err)
			}
		}
	}
	publish(0, 20)
	read(20)
	for i := range c.Size() {
		c.Stop(i) // each server in turn: the other two keep a quorum
		t.Logf("server %d stopped", i)
		publish(len(want), len(want)+10)
		read(len(want))
		if err := c.Restart(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("read %v; want %v (once each, in order)", got, want)
	}
}

// TestClusterLaneLeaderStops: a lane waiting for its next message on a consumer whose
// leader stops asks again at the new leader (its pull request expires on the server and
// is kept alive by heartbeats; two missed, it is taken for lost): the message published
// after the stop reaches it, without its reader's deadline ending first. Run once with
// the client on the leader's server and once on another.
func TestClusterLaneLeaderStops(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three clustered NATS servers; not in -short")
	}
	for _, onLeader := range []bool{false, true} {
		t.Run(map[bool]string{false: "client-elsewhere", true: "client-on-leader"}[onLeader], func(t *testing.T) {
			laneLeaderStops(t, onLeader)
		})
	}
}

func laneLeaderStops(t *testing.T, onLeader bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, b := openCluster(ctx, t)
	if err := b.Stream(ctx, bus.Stream{Name: "LS", Subjects: []string{"ls.>"}, Duplicates: time.Minute}); err != nil {
		t.Fatal(err)
	}
	lane := bus.Lane{Stream: "LS", Name: "ls-lane", Subject: "ls.>", MaxAckPending: 100, AckWait: 30 * time.Second}
	q, err := b.Lane(ctx, lane)
	if err != nil {
		t.Fatal(err)
	}
	// The consumer's leader, and a client on it or not as asked (the client reconnects
	// when its server stops: it is made to, by stopping the one it is on).
	var leader string
	testwait.For(t, 20*time.Second, func() (err error) {
		if leader, _, err = bus.ConsumerLeader(ctx, b, "LS", "ls-lane"); err == nil && leader == "" {
			err = errors.New("no leader yet")
		}
		return err
	})
	for (bus.ConnectedServer(b) == leader) != onLeader {
		other := slices.IndexFunc([]string{"test-1", "test-2", "test-3"}, func(s string) bool {
			return s == bus.ConnectedServer(b)
		})
		c.Stop(other)
		testwait.For(t, 20*time.Second, func() error {
			if s := bus.ConnectedServer(b); s == "" || s == fmt.Sprintf("test-%d", other+1) {
				return errors.New("not reconnected yet")
			}
			return nil
		})
		if err := c.Restart(ctx, other); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, 20*time.Second, func() (err error) {
			leader, _, err = bus.ConsumerLeader(ctx, b, "LS", "ls-lane")
			return err
		})
	}
	type result struct {
		msgs []*bus.Received
		err  error
	}
	done := make(chan result, 1)
	rctx, rcancel := context.WithTimeout(ctx, 45*time.Second)
	defer rcancel()
	go func() {
		for rctx.Err() == nil {
			msgs, err := q.Next(rctx, 10)
			if err != nil {
				t.Logf("Next: %v (asked again)", err)
			}
			if len(msgs) > 0 || rctx.Err() != nil {
				done <- result{msgs, err}
				return
			}
		}
		done <- result{nil, rctx.Err()}
	}()
	testwait.For(t, 20*time.Second, func() error {
		if _, waiting, err := bus.ConsumerLeader(ctx, b, "LS", "ls-lane"); err != nil || waiting == 0 {
			return fmt.Errorf("the lane's request not yet waiting (%v)", err)
		}
		return nil
	})
	i, _ := strconv.Atoi(strings.TrimPrefix(leader, "test-"))
	c.Stop(i - 1)
	t.Logf("consumer leader %s stopped; client was on it: %v", leader, onLeader)
	err = testwait.Until(20*time.Second, func() error {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err := b.Publish(pctx, bus.Msg{Subject: "ls.x", Data: []byte("after"), ID: "after"})
		return err
	})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	r := <-done
	if len(r.msgs) != 1 || string(r.msgs[0].Data()) != "after" {
		t.Fatalf("the lane read %v (%v) before its reader gave up; want [after]", len(r.msgs), r.err)
	}
	if err := r.msgs[0].AckSync(ctx); err != nil {
		t.Fatal(err)
	}
}

// openCluster starts three clustered NATS servers and opens a bus on them, both ended
// with the test.
func openCluster(ctx context.Context, t *testing.T) (*bus.Cluster, *bus.Bus) {
	t.Helper()
	c, err := bus.StartCluster(ctx, t.TempDir(), "test", 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown)
	b, err := bus.Open(ctx, bus.Config{URL: c.URL(), Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return c, b
}
