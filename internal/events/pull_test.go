package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bus"
	"github.com/crossroads-hub/crossroads/internal/metrics"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// pullReplicas are the pull stages of three replicas of the hub, each with its own
// connection to one 3-node NATS cluster, and what they log.
type pullReplicas struct {
	buses [3]*bus.Bus
	p     [3]*Pipeline
	log   *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startPullReplicas starts the cluster and the three replicas' pipelines (the pull
// stage only: no relay, router or deliverers), whose copies wait ackWait for their
// acknowledgement.
func startPullReplicas(t testing.TB, ackWait time.Duration) *pullReplicas {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := bus.StartCluster(ctx, t.TempDir(), "pull", 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown)
	r := &pullReplicas{log: &lockedBuffer{}}
	log := slog.New(slog.NewJSONHandler(r.log, nil))
	for i := range r.p {
		b, err := bus.Open(ctx, bus.Config{URL: c.URL(), Name: "replica-" + strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Close)
		if i == 0 {
			if err := createStreams(ctx, b, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		r.buses[i] = b
		// The bucket of hand-outs is opened by the first pull or acknowledgement.
		r.p[i] = &Pipeline{bus: b, pullAckWait: ackWait, log: log, out: newOutcomes(nil, nil, log)}
	}
	return r
}

// publishCopies publishes n changes of each of persons for subscription, in order, in
// the lane of each person as the router does; it returns their keys, in order.
func (r *pullReplicas) publishCopies(t testing.TB, subscription string, persons []string, n int, seq *int) []string {
	t.Helper()
	var msgs []bus.Msg
	var keys []string
	for range n {
		for _, person := range persons {
			*seq++
			d := delivery{Key: "civil:" + strconv.Itoa(*seq) + "/" + subscription, Subscription: subscription, Person: person, Type: "address"}
			body, _ := json.Marshal(d)
			msgs = append(msgs, bus.Msg{Subject: deliverySubject(subscription, person), Data: body, ID: d.Key, Order: person})
			keys = append(keys, d.Key)
		}
	}
	if _, err := r.buses[0].PublishAll(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	return keys
}

// pulled are copies as a puller reads them.
type pulledCopy struct{ Key, Person string }

func (r *pullReplicas) next(t *testing.T, i int, subscription string, max int) []pulledCopy {
	t.Helper()
	list, err := r.p[i].Next(context.Background(), subscription, max, time.Second)
	if err != nil {
		t.Fatalf("replica %d: Next(%s): %v", i, subscription, err)
	}
	var out []pulledCopy
	for _, raw := range list {
		var c pulledCopy
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func (r *pullReplicas) ack(t *testing.T, i int, subscription string, keys []string) (int, []string) {
	t.Helper()
	n, unknown, err := r.p[i].Ack(context.Background(), subscription, keys)
	if err != nil {
		t.Fatalf("replica %d: Ack(%s): %v", i, subscription, err)
	}
	return n, unknown
}

func keysOfCopies(cs []pulledCopy) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Key)
	}
	return out
}

// TestPullAcrossReplicas: copies pulled from one replica are acknowledged at another,
// with the answer one hub gives; what was acknowledged is not offered again; a second
// acknowledgement, one of another subscription's copy and one of a made-up key
// acknowledge nothing, are answered as unknown and logged; each person's copies are
// handed out in order.
func TestPullAcrossReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("a 3-node NATS cluster; not in -short")
	}
	t.Parallel()
	r := startPullReplicas(t, time.Minute)
	seq := 0
	persons := []string{"p1", "p2", "p3"}
	want := r.publishCopies(t, "sub-a", persons, 8, &seq) // 24 copies
	other := r.publishCopies(t, "sub-b", persons[:1], 1, &seq)

	first := r.next(t, 0, "sub-a", 10)
	if got := keysOfCopies(first); len(got) != 10 {
		t.Fatalf("replica 0 handed out %v; want 10 copies", got)
	}
	if n, unknown := r.ack(t, 1, "sub-a", keysOfCopies(first)); n != 10 || len(unknown) != 0 {
		t.Errorf("the 10 copies pulled at replica 0, acknowledged at replica 1: %d acknowledged, unknown %v; want 10, none", n, unknown)
	}
	if n, unknown := r.ack(t, 2, "sub-a", keysOfCopies(first)[:3]); n != 0 || len(unknown) != 3 {
		t.Errorf("acknowledged again at replica 2: %d acknowledged, unknown %v; want 0, all 3", n, unknown)
	}

	// Another subscription's copy, acknowledged through sub-a, stays out to sub-b.
	theirs := r.next(t, 2, "sub-b", 10)
	if got := keysOfCopies(theirs); !slices.Equal(got, other) {
		t.Fatalf("sub-b pulled %v; want %v", got, other)
	}
	if n, unknown := r.ack(t, 1, "sub-a", append(other, "civil:999999/sub-a", strings.Repeat("x", 5000))); n != 0 || len(unknown) != 3 {
		t.Errorf("sub-b's copy, a made-up key and one too long acknowledged through sub-a: %d, unknown %v; want 0, all 3", n, unknown)
	}
	if n, _ := r.ack(t, 0, "sub-b", other); n != 1 {
		t.Errorf("sub-b's own acknowledgement after sub-a's attempt: %d; want 1", n)
	}
	for _, k := range []string{"civil:999999/sub-a", other[0]} {
		if !strings.Contains(r.log.String(), `"first":"`+k+`"`) && !strings.Contains(r.log.String(), `"subscription":"sub-a"`) {
			t.Errorf("the unknown acknowledgement of %s was not logged:\n%s", k, r.log.String())
		}
	}

	// The rest, pulled at the other replicas; nothing acknowledged comes again.
	got := keysOfCopies(first)
	for i := 1; len(got) < len(want); i++ {
		if i > 20 {
			t.Fatalf("after %d pulls, %d copies of %d", i, len(got), len(want))
		}
		cs := r.next(t, i%3, "sub-a", 5)
		if n, _ := r.ack(t, (i+1)%3, "sub-a", keysOfCopies(cs)); n != len(cs) {
			t.Errorf("pull %d: %d of %d acknowledged", i, n, len(cs))
		}
		got = append(got, keysOfCopies(cs)...)
	}
	checkOrder(t, got, want)
	if again := r.next(t, 1, "sub-a", 10); len(again) != 0 {
		t.Errorf("acknowledged copies offered again: %v", keysOfCopies(again))
	}
}

// checkOrder checks that got holds each of want once, and each person's (want's
// persons cycle through 3) in the order of want.
func checkOrder(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d copies handed out; want %d: %v", len(got), len(want), got)
	}
	pos := map[string]int{}
	for i, k := range want {
		pos[k] = i
	}
	last := map[int]int{}
	seen := map[string]bool{}
	for _, k := range got {
		i, ok := pos[k]
		if !ok || seen[k] {
			t.Errorf("%s handed out twice or never published", k)
			continue
		}
		seen[k] = true
		person := i % 3
		if prev, ok := last[person]; ok && i < prev {
			t.Errorf("person %d: %s handed out after %s", person, k, want[prev])
		}
		last[person] = i
	}
}

// TestPullConcurrentReplicas: three pullers, one at each replica, each acknowledging at
// the next: every copy is handed out once (none to two pullers at once), all are
// acknowledged once; two acknowledgements of the same copies at two replicas at once
// count each copy once.
func TestPullConcurrentReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("a 3-node NATS cluster; not in -short")
	}
	t.Parallel()
	r := startPullReplicas(t, time.Minute)
	seq := 0
	want := r.publishCopies(t, "sub-a", []string{"p1", "p2", "p3", "p4", "p5", "p6"}, 10, &seq)
	var mu sync.Mutex
	handed := map[string]int{}
	acked := 0
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for empty := 0; empty < 2; {
				list, err := r.p[i].Next(context.Background(), "sub-a", 4, 500*time.Millisecond)
				if err != nil {
					t.Error(err)
					return
				}
				if len(list) == 0 {
					empty++
					continue
				}
				var keys []string
				for _, raw := range list {
					var c pulledCopy
					json.Unmarshal(raw, &c)
					keys = append(keys, c.Key)
				}
				n, _, err := r.p[(i+1)%3].Ack(context.Background(), "sub-a", keys)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				for _, k := range keys {
					handed[k]++
				}
				acked += n
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, k := range want {
		if handed[k] != 1 {
			t.Errorf("%s handed out %d times; want once", k, handed[k])
		}
	}
	if acked != len(want) {
		t.Errorf("%d acknowledged; want %d", acked, len(want))
	}

	// The same copies acknowledged at two replicas at once: each counted once.
	more := r.publishCopies(t, "sub-a", []string{"p1", "p2"}, 10, &seq)
	var keys []string
	for len(keys) < len(more) {
		cs := r.next(t, 0, "sub-a", 100)
		if len(cs) == 0 {
			t.Fatalf("%d of %d copies handed out", len(keys), len(more))
		}
		keys = append(keys, keysOfCopies(cs)...)
	}
	counts := make([]int, 2)
	for i := range counts {
		wg.Add(1)
		go func() { defer wg.Done(); counts[i], _ = r.ack(t, i+1, "sub-a", keys) }()
	}
	wg.Wait()
	if counts[0]+counts[1] != len(more) {
		t.Errorf("acknowledged at once at two replicas: %d + %d; want %d in all", counts[0], counts[1], len(more))
	}
}

// TestPullReplicaGone: the replica that handed copies out is gone before they are
// acknowledged: another acknowledges them all the same, and those never acknowledged
// come again, at any replica, once their wait is over, each person's first.
func TestPullReplicaGone(t *testing.T) {
	if testing.Short() {
		t.Skip("a 3-node NATS cluster; not in -short")
	}
	t.Parallel()
	const wait = 2 * time.Second
	r := startPullReplicas(t, wait)
	seq := 0
	want := r.publishCopies(t, "sub-a", []string{"p1", "p2", "p3"}, 4, &seq) // 12
	cs := r.next(t, 0, "sub-a", 6)
	if len(cs) != 6 {
		t.Fatalf("handed out %v; want 6", keysOfCopies(cs))
	}
	r.buses[0].Close() // replica 0 is gone, with its connection
	acked := keysOfCopies(cs)[:3]
	if n, unknown := r.ack(t, 1, "sub-a", acked); n != 3 {
		t.Errorf("copies of a replica gone, acknowledged at another: %d, unknown %v; want 3", n, unknown)
	}
	var got []string
	testwait.For(t, 30*time.Second, func() error {
		more := r.next(t, 2, "sub-a", 20)
		if n, _ := r.ack(t, 1, "sub-a", keysOfCopies(more)); n != len(more) {
			return fmt.Errorf("%d of %d acknowledged", n, len(more))
		}
		got = append(got, keysOfCopies(more)...)
		if len(got) < len(want)-len(acked) {
			return fmt.Errorf("%d of %d copies handed out again or for the first time", len(got), len(want)-len(acked))
		}
		return nil
	})
	for _, k := range keysOfCopies(cs)[3:] {
		if !slices.Contains(got, k) {
			t.Errorf("%s, handed out by the replica gone and not acknowledged, did not come again", k)
		}
	}
	for _, k := range acked {
		if slices.Contains(got, k) {
			t.Errorf("%s, acknowledged, came again", k)
		}
	}
	// Each copy's first hand-out, in each person's order (those handed out again came
	// after later ones, as on one hub: they were not acknowledged in time).
	firsts := keysOfCopies(cs)
	for _, k := range got {
		if !slices.Contains(firsts, k) {
			firsts = append(firsts, k)
		}
	}
	checkOrder(t, firsts, want)
}

// TestPullAckAtOnce: copies acknowledged at another replica the moment they were
// handed out are all known there (the hand-outs are read from the bucket's leader, not
// from a server that may not have them yet).
func TestPullAckAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("a 3-node NATS cluster; not in -short")
	}
	t.Parallel()
	r := startPullReplicas(t, time.Minute)
	seq := 0
	persons := make([]string, 50)
	for i := range persons {
		persons[i] = "p" + strconv.Itoa(i)
	}
	want := r.publishCopies(t, "sub-a", persons, 60, &seq) // 3,000
	acked := 0
	for i := 0; acked < len(want); i++ {
		cs := r.next(t, 0, "sub-a", 100)
		if len(cs) == 0 {
			t.Fatalf("%d of %d copies handed out", acked, len(want))
		}
		n, unknown := r.ack(t, 1+i%2, "sub-a", keysOfCopies(cs))
		if n != len(cs) {
			t.Fatalf("pull %d: %d of %d acknowledged at once at another replica; unknown there: %v", i, n, len(cs), unknown)
		}
		acked += n
	}
}

// BenchmarkPullAcrossReplicas pulls copies 100 at a time at one replica and acknowledges
// them at another, on a 3-node cluster in this process: what a pulled copy costs now
// that its hand-out is kept in the bus (one put at the hand-out; a read, a delete and
// the acknowledgement at the ack).
func BenchmarkPullAcrossReplicas(b *testing.B) {
	r := startPullReplicas(b, time.Minute)
	seq := 0
	persons := make([]string, 50)
	for i := range persons {
		persons[i] = "p" + strconv.Itoa(i)
	}
	keys := r.publishCopies(b, "sub-a", persons, (b.N+len(persons)-1)/len(persons), &seq)
	cpu0 := metrics.ProcessCPU()
	b.ResetTimer()
	done := 0
	for done < len(keys) {
		list, err := r.p[done%2].Next(context.Background(), "sub-a", 100, time.Second)
		if err != nil {
			b.Fatal(err)
		}
		if len(list) == 0 {
			b.Fatalf("%d of %d copies handed out", done, len(keys))
		}
		var ks []string
		for _, raw := range list {
			var c pulledCopy
			json.Unmarshal(raw, &c)
			ks = append(ks, c.Key)
		}
		n, _, err := r.p[1+done%2].Ack(context.Background(), "sub-a", ks)
		if err != nil || n != len(ks) {
			b.Fatalf("Ack = %d, %v; want %d", n, err, len(ks))
		}
		done += len(ks)
	}
	b.StopTimer()
	b.ReportMetric(float64(done)/b.Elapsed().Seconds(), "copies/s")
	// The process's: the three servers' work included.
	b.ReportMetric(float64((metrics.ProcessCPU()-cpu0).Microseconds())/float64(done), "cpu-µs/copy")
}
