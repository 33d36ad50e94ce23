package bus_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bus"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// buses are the embedded server always, and the one CROSSROADS_TEST_NATS names.
func buses(t *testing.T) map[string]bus.Config {
	m := map[string]bus.Config{"embedded": {Dir: t.TempDir(), Name: "test"}}
	if url := os.Getenv("CROSSROADS_TEST_NATS"); url != "" {
		m["external"] = bus.Config{URL: url, Name: "test"}
	} else {
		t.Log("CROSSROADS_TEST_NATS is not set: the external NATS test is skipped")
	}
	return m
}

// each runs test against each bus, on a stream of its own.
func each(t *testing.T, test func(t *testing.T, ctx context.Context, b *bus.Bus, stream string)) {
	for name, cfg := range buses(t) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			b, err := bus.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			stream := "TEST_" + strconv.FormatInt(time.Now().UnixNano(), 36)
			if err := b.Stream(ctx, bus.Stream{Name: stream, Subjects: []string{stream + ".>"}, Duplicates: time.Minute}); err != nil {
				t.Fatal(err)
			}
			defer b.DeleteStream(context.Background(), stream)
			test(t, ctx, b, stream)
		})
	}
}

// datas are the bodies of msgs.
func datas(msgs []*bus.Received) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, string(m.Data()))
	}
	return out
}

func numbers(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

// TestPublishConsume: a message published with an id once is stored once, and a
// pull queue gets the messages in order.
func TestPublishConsume(t *testing.T) {
	each(t, func(t *testing.T, ctx context.Context, b *bus.Bus, stream string) {
		for i := range 10 {
			for range 2 { // a repeated publish, as after a crash
				if _, err := b.Publish(ctx, bus.Msg{Subject: stream + ".x", Data: []byte(strconv.Itoa(i)), ID: "m" + strconv.Itoa(i)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if all, err := b.Read(ctx, stream, stream+".>", 100, 5*time.Second); err != nil || len(all) != 10 {
			t.Fatalf("stream holds %d messages (%v); want 10", len(all), err)
		}
		q, err := b.Pull(ctx, stream, "d", stream+".>", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := q.Fetch(ctx, 10, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if got := datas(msgs); !slices.Equal(got, numbers(0, 10)) {
			t.Errorf("Fetch = %v; want %v", got, numbers(0, 10))
		}
		for _, m := range msgs {
			if err := m.AckSync(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if again, err := q.Fetch(ctx, 10, 200*time.Millisecond); err != nil || len(again) != 0 {
			t.Errorf("after acknowledging every message: %v, %v; want none", datas(again), err)
		}
		// A long poll ends with its context (a server shutting down): nothing, no error.
		cctx, cancel := context.WithCancel(ctx)
		polled := make(chan error, 1)
		go func() {
			msgs, err := q.Fetch(cctx, 10, 10*time.Minute)
			if err == nil && len(msgs) > 0 {
				err = fmt.Errorf("%d messages", len(msgs))
			}
			polled <- err
		}()
		cancel()
		select {
		case err := <-polled:
			if err != nil {
				t.Errorf("Fetch after its context ended: %v; want nothing, no error", err)
			}
		case <-time.After(time.Minute): // far below its wait
			t.Error("Fetch went on waiting after its context ended")
		}
	})
}

// TestPublishAll: a batch is stored in order; published again (as after a crash), its
// repeats are dropped by id.
func TestPublishAll(t *testing.T) {
	each(t, func(t *testing.T, ctx context.Context, b *bus.Bus, stream string) {
		var msgs []bus.Msg
		for i := range 50 {
			msgs = append(msgs, bus.Msg{Subject: stream + ".a", Data: []byte(strconv.Itoa(i)), ID: "a" + strconv.Itoa(i),
				Header: map[string]string{"Crossroads-Seq": strconv.Itoa(i)}})
		}
		for range 2 {
			if n, err := b.PublishAll(ctx, msgs); n != 50 || err != nil {
				t.Fatalf("PublishAll = %d, %v; want 50, nil", n, err)
			}
		}
		all, err := b.Read(ctx, stream, stream+".a", 100, 5*time.Second)
		var got []string
		for _, m := range all {
			got = append(got, string(m.Data))
		}
		if err != nil || !slices.Equal(got, numbers(0, 50)) {
			t.Errorf("stream holds %v (%v); want 0…49 once", got, err)
		}
		last, err := b.Last(ctx, stream, stream+".*")
		if err != nil || last.Header["Crossroads-Seq"] != "49" {
			t.Errorf("Last = %+v, %v; want the header Crossroads-Seq 49", last, err)
		}
		if _, err := b.Last(ctx, stream, stream+".none"); !errors.Is(err, bus.ErrNotFound) {
			t.Errorf("Last of an empty subject: %v; want ErrNotFound", err)
		}
	})
}

// TestPurgeThrough: a purge through a sequence keeps what was stored after it, and the
// messages of other subjects.
func TestPurgeThrough(t *testing.T) {
	each(t, func(t *testing.T, ctx context.Context, b *bus.Bus, stream string) {
		var through uint64
		for i := range 6 {
			seq, err := b.Publish(ctx, bus.Msg{Subject: stream + ".dead." + strconv.Itoa(i%2), Data: []byte(strconv.Itoa(i))})
			if err != nil {
				t.Fatal(err)
			}
			if i == 3 {
				through = seq
			}
		}
		if err := b.Purge(ctx, stream, stream+".dead.0", through); err != nil {
			t.Fatal(err)
		}
		all, err := b.Read(ctx, stream, stream+".>", 100, 5*time.Second)
		var got []string
		for _, m := range all {
			got = append(got, string(m.Data))
		}
		// Purged: 0 and 2 (subject dead.0, at or before 3); kept: 4 (after), 1, 3, 5.
		if want := []string{"1", "3", "4", "5"}; err != nil || !slices.Equal(got, want) {
			t.Errorf("after the purge: %v (%v); want %v", got, err, want)
		}
	})
}

// TestLaneResumes: a lane's batch handed out but never acknowledged (a crash) comes
// again first, in order, when the lane is opened again; acknowledging the last message
// of a batch acknowledges the batch.
func TestLaneResumes(t *testing.T) {
	each(t, func(t *testing.T, ctx context.Context, b *bus.Bus, stream string) {
		lane := bus.Lane{Stream: stream, Name: "lane", Subject: stream + ".l", MaxAckPending: 3, AckWait: time.Minute}
		for i := range 8 {
			if _, err := b.Publish(ctx, bus.Msg{Subject: stream + ".l", Data: []byte(strconv.Itoa(i))}); err != nil {
				t.Fatal(err)
			}
		}
		q, err := b.Lane(ctx, lane)
		if err != nil {
			t.Fatal(err)
		}
		first, err := q.Next(ctx, 10)
		if err != nil || !slices.Equal(datas(first), numbers(0, 3)) {
			t.Fatalf("first batch %v (%v); want 0…2 (MaxAckPending 3)", datas(first), err)
		}
		if err := first[len(first)-1].AckSync(ctx); err != nil {
			t.Fatal(err)
		}
		second, err := q.Next(ctx, 10)
		if err != nil || !slices.Equal(datas(second), numbers(3, 6)) {
			t.Fatalf("second batch %v (%v); want 3…5", datas(second), err)
		}
		// The lane stops here without acknowledging: opened again, it starts with 3.
		q, err = b.Lane(ctx, lane)
		if err != nil {
			t.Fatal(err)
		}
		again, err := q.Next(ctx, 10)
		if err != nil || !slices.Equal(datas(again), numbers(3, 6)) {
			t.Errorf("after the crash %v (%v); want 3…5 again", datas(again), err)
		}
		st, err := b.QueueState(ctx, stream, "lane")
		if err != nil || st.Pending != 2 || st.AckPending != 3 {
			t.Errorf("QueueState = %+v, %v; want 2 pending, 3 out", st, err)
		}
		if _, err := b.QueueState(ctx, stream, "none"); !errors.Is(err, bus.ErrNotFound) {
			t.Errorf("QueueState of no queue: %v; want ErrNotFound", err)
		}
	})
}

// TestBucket: values by key, the last one kept; keys listed by filter.
func TestBucket(t *testing.T) {
	each(t, func(t *testing.T, ctx context.Context, b *bus.Bus, stream string) {
		k, err := b.Bucket(ctx, stream+"_KV", 0)
		if err != nil {
			t.Fatal(err)
		}
		defer b.DeleteStream(context.Background(), "KV_"+stream+"_KV")
		if _, err := k.Get(ctx, "a"); !errors.Is(err, bus.ErrNotFound) {
			t.Errorf("Get of a new key: %v; want ErrNotFound", err)
		}
		for _, kv := range [][2]string{{"a.1", "x"}, {"a.1", "y"}, {"a.2", "z"}, {"b.1", "w"}} {
			if err := k.Put(ctx, kv[0], []byte(kv[1])); err != nil {
				t.Fatal(err)
			}
		}
		if err := k.PutNoWait("a.3", []byte("v")); err != nil {
			t.Fatal(err)
		}
		if v, err := k.Get(ctx, "a.1"); err != nil || string(v) != "y" {
			t.Errorf("Get(a.1) = %q, %v; want y", v, err)
		}
		want := []string{"a.1", "a.2", "a.3"} // a.3 once the bus stored it
		if err := testwait.Until(5*time.Second, func() error {
			keys, err := k.Keys(ctx, "a.*")
			slices.Sort(keys)
			if err != nil || !slices.Equal(keys, want) {
				return fmt.Errorf("Keys(a.*) = %v, %v; want %v", keys, err, want)
			}
			return nil
		}); err != nil {
			t.Error(err)
		}
	})
}

// TestLaneDeliveryLost: a delivery that went to a reader no longer there (a pull request
// cut short, or left on a server that stopped) is handed out again, before the messages
// after it; the lane never hands out one past it, whose acknowledgement would cover it.
func TestLaneDeliveryLost(t *testing.T) {
	each(t, func(t *testing.T, ctx context.Context, b *bus.Bus, stream string) {
		lane := bus.Lane{Stream: stream, Name: "lane", Subject: stream + ".l", MaxAckPending: 10, AckWait: time.Minute}
		q, err := b.Lane(ctx, lane)
		if err != nil {
			t.Fatal(err)
		}
		publish := func(from, to int) {
			t.Helper()
			for i := from; i < to; i++ {
				if _, err := b.Publish(ctx, bus.Msg{Subject: stream + ".l", Data: []byte(strconv.Itoa(i))}); err != nil {
					t.Fatal(err)
				}
			}
		}
		var got []string
		read := func(want int) {
			t.Helper()
			for len(got) < want {
				msgs, err := q.Next(ctx, 10)
				if err != nil {
					t.Fatalf("Next after %v: %v", got, err)
				}
				if len(msgs) == 0 {
					continue
				}
				got = append(got, datas(msgs)...)
				if err := msgs[len(msgs)-1].AckSync(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		publish(0, 3)
		read(3)
		publish(3, 6)
		if err := bus.LoseDelivery(b, stream, "lane"); err != nil { // 3 goes astray
			t.Fatal(err)
		}
		read(6)
		publish(6, 7)
		if err := bus.LoseDelivery(b, stream, "lane"); err != nil { // 6, the last one
			t.Fatal(err)
		}
		// Nothing comes after 6: the lane finds it gone astray after a wait that ended.
		for range 5 {
			if len(got) == 7 {
				break
			}
			wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			msgs, err := q.Next(wctx, 10)
			cancel()
			if err == nil && len(msgs) > 0 {
				got = append(got, datas(msgs)...)
				_ = msgs[len(msgs)-1].AckSync(ctx)
			}
		}
		if !slices.Equal(got, numbers(0, 7)) {
			t.Errorf("read %v; want 0…6, once each, in order", got)
		}
	})
}

// TestPublishWindows: PublishAll sends no two messages of one Order in one window (so a
// lost one cannot be overtaken by the next of its Order), and as many others as come.
func TestPublishWindows(t *testing.T) {
	msgs := func(orders string) []bus.Msg {
		var out []bus.Msg
		for _, o := range orders {
			out = append(out, bus.Msg{Order: strings.TrimSpace(string(o))})
		}
		return out
	}
	for _, c := range []struct {
		orders string
		want   []int // the windows' ends
	}{
		{"abc", []int{3}},
		{"abab", []int{2, 4}},
		{"aaa", []int{1, 2, 3}},
		{"ab ca b", []int{4, 7}}, // " ": no order, never a reason to wait
		{"", nil},
	} {
		var got []int
		m := msgs(c.orders)
		for from := 0; from < len(m); from = got[len(got)-1] {
			got = append(got, bus.WindowEnd(m, from))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("windows of %q end at %v; want %v", c.orders, got, c.want)
		}
	}
}
