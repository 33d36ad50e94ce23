package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is a key-value bucket: the last value of each key, on disk. Keys are tokens
// separated by dots (no ':', '*', '>' or spaces).
type Bucket struct {
	kv   jetstream.KeyValue
	js   jetstream.JetStream
	name string
}

// Bucket opens the bucket name, creating it if new; a value older than ttl is forgotten
// (0: kept until replaced).
func (b *Bus) Bucket(ctx context.Context, name string, ttl time.Duration) (*Bucket, error) {
	kv, err := b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: name, History: 1, TTL: ttl,
		Storage: jetstream.FileStorage, Replicas: b.replicas})
	if err != nil {
		return nil, fmt.Errorf("bus: bucket %s: %w", name, err)
	}
	return &Bucket{kv: kv, js: b.js, name: name}, nil
}

// Put sets key to value and waits until it is stored.
func (k *Bucket) Put(ctx context.Context, key string, value []byte) error {
	_, err := k.kv.Put(ctx, key, value)
	return err
}

// PutNoWait sets key to value without waiting for the bus to store it (a put is a
// publish on the bucket's subject of the key): for values that may be lost.
func (k *Bucket) PutNoWait(key string, value []byte) error {
	_, err := k.js.PublishAsync("$KV."+k.name+"."+key, value)
	return err
}

// Get returns the value of key, or ErrNotFound.
func (k *Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	e, err := k.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return e.Value(), nil
}

// Keys lists the keys that match filter (wildcards allowed: "a.*", "a.>").
func (k *Bucket) Keys(ctx context.Context, filter string) ([]string, error) {
	l, err := k.kv.ListKeysFiltered(ctx, filter)
	if err != nil {
		return nil, err
	}
	var out []string
	for key := range l.Keys() {
		out = append(out, key)
	}
	return out, nil
}
