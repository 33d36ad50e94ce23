// Package bus is the hub's event bus: NATS JetStream, embedded in the process by
// default (no port opened, its files in a folder of the data), or an external NATS
// cluster when a URL is given. Both take the same code path from here on.
package bus

import (
	"context"
	"errors"
	"fmt"
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
}

// Bus is a connection to JetStream.
type Bus struct {
	JS       jetstream.JetStream
	conn     *nats.Conn
	embedded *server.Server
}

// Open starts the embedded server (when cfg.URL is empty) and connects.
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	b := &Bus{}
	opts := []nats.Option{nats.Name(cfg.Name), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}
	url := cfg.URL
	if url == "" {
		if cfg.Dir == "" {
			return nil, errors.New("bus: the embedded server needs a folder")
		}
		// The streams hold changes to persons' records: nats-server makes its files 0600
		// and its folders 0700; those an older version left readable are tightened.
		if err := perm.MkdirAll(cfg.Dir); err != nil {
			return nil, fmt.Errorf("bus: create the folder: %w", err)
		}
		if err := perm.Tighten(cfg.Dir); err != nil {
			return nil, fmt.Errorf("bus: %w", err)
		}
		ns, err := server.NewServer(&server.Options{
			ServerName: "crossroads", JetStream: true, StoreDir: cfg.Dir,
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
		b.embedded = ns
		opts = append(opts, nats.InProcessServer(ns))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: connect: %w", err)
	}
	b.conn = nc
	if b.JS, err = jetstream.New(nc); err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	if _, err := b.JS.AccountInfo(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: JetStream is not enabled on %s: %w", url, err)
	}
	return b, nil
}

// Stream creates the stream, or updates it to cfg.
func (b *Bus) Stream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	s, err := b.JS.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("bus: stream %s: %w", cfg.Name, err)
	}
	return s, nil
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
