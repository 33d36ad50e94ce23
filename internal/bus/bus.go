// Package bus is the hub's event bus: NATS JetStream, embedded in the process by
// default (no port opened, its files in a folder of the data), or an external NATS
// cluster when a URL is given. Both take the same code path from here on.
//
// It is the only package that speaks NATS (internal/arch keeps it so). The others see
// the bus in its own terms: streams that keep messages (stream.go), key-value buckets
// (bucket.go) and queues, durable readers of a stream that remember what was
// acknowledged (queue.go).
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crossroads-hub/crossroads/internal/perm"
)

// Config says which bus to use.
type Config struct {
	URL string // nats://…: an external server or cluster; "": embedded
	Dir string // embedded: where JetStream keeps its files
	// Name is the client's name, seen by the servers' monitoring.
	Name string
	// Replicas is how many servers keep each stream and bucket; 0: 3 when the client
	// knows of at least three servers (a cluster: one may stop and the others go on),
	// else 1.
	Replicas int
	// Log receives what the bus does on its own (a queue resumed after a crash); nil:
	// nothing is logged.
	Log *slog.Logger
}

// Bus is a connection to JetStream.
type Bus struct {
	js       jetstream.JetStream
	conn     *nats.Conn
	embedded *server.Server
	log      *slog.Logger
	replicas int // of each stream and bucket
}

// ErrNotFound is returned for a message, key or queue the bus does not hold.
var ErrNotFound = errors.New("bus: not found")

// Open starts the embedded server (when cfg.URL is empty) and connects.
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	b := &Bus{log: cfg.Log}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	opts := []nats.Option{nats.Name(cfg.Name), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}
	url := cfg.URL
	if url == "" {
		ns, err := startEmbedded(cfg.Dir)
		if err != nil {
			return nil, err
		}
		b.embedded = ns
		opts = append(opts, nats.InProcessServer(ns))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: connect: %w", err)
	}
	b.conn = nc
	// A message published without waiting gets its acknowledgement or, within 10 s,
	// an error: in a cluster whose stream leader stopped, an acknowledgement may never
	// come, and the publisher must not wait for it for ever.
	if b.js, err = jetstream.New(nc, jetstream.WithPublishAsyncTimeout(10*time.Second)); err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	if _, err := b.js.AccountInfo(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: JetStream is not enabled on %s: %w", url, err)
	}
	b.replicas = cfg.Replicas
	if b.replicas <= 0 {
		b.replicas = 1
		if len(nc.Servers()) >= 3 {
			b.replicas = 3
		}
	}
	if b.replicas > 1 {
		b.log.Info("the bus keeps each stream on several servers", "replicas", b.replicas, "servers", len(nc.Servers()))
	}
	return b, nil
}

// startEmbedded starts a JetStream server inside the process, listening on no port.
func startEmbedded(dir string) (*server.Server, error) {
	if dir == "" {
		return nil, errors.New("bus: the embedded server needs a folder")
	}
	// The streams hold changes to persons' records: nats-server makes its files 0600
	// and its folders 0700; those an older version left readable are tightened.
	if err := perm.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("bus: create the folder: %w", err)
	}
	if err := perm.Tighten(dir); err != nil {
		return nil, fmt.Errorf("bus: %w", err)
	}
	ns, err := server.NewServer(&server.Options{
		ServerName: "crossroads", JetStream: true, StoreDir: dir,
		DontListen: true, NoSigs: true, NoLog: true,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: start the embedded server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("bus: the embedded server did not start within 10 s")
	}
	return ns, nil
}

// Close drains the connection and stops the embedded server.
func (b *Bus) Close() {
	if b.conn != nil {
		_ = b.conn.Drain()
		b.conn.Close()
	}
	if b.embedded != nil {
		b.embedded.Shutdown()
		b.embedded.WaitForShutdown()
	}
}
