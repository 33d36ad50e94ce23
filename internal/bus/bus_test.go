package bus_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crossroads-hub/crossroads/internal/bus"
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

// TestPublishConsume: a message published with an id once is stored once, and a
// durable consumer gets the messages in order, also after reconnecting.
func TestPublishConsume(t *testing.T) {
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
			s, err := b.Stream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{stream + ".>"}, Duplicates: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			defer b.JS.DeleteStream(context.Background(), stream)
			for i := range 10 {
				for range 2 { // a repeated publish, as after a crash
					if _, err := b.JS.Publish(ctx, stream+".x", []byte(strconv.Itoa(i)), jetstream.WithMsgID("m"+strconv.Itoa(i))); err != nil {
						t.Fatal(err)
					}
				}
			}
			info, err := s.Info(ctx)
			if err != nil || info.State.Msgs != 10 {
				t.Fatalf("stream holds %d messages (%v); want 10", info.State.Msgs, err)
			}
			c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "d", AckPolicy: jetstream.AckExplicitPolicy})
			if err != nil {
				t.Fatal(err)
			}
			batch, err := c.Fetch(10, jetstream.FetchMaxWait(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			i := 0
			for m := range batch.Messages() {
				if string(m.Data()) != strconv.Itoa(i) {
					t.Errorf("message %d is %q", i, m.Data())
				}
				m.Ack()
				i++
			}
			if i != 10 {
				t.Errorf("got %d messages; want 10", i)
			}
		})
	}
}
