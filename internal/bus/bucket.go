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
	var kv jetstream.KeyValue
	err := setup(ctx, func(ctx context.Context) (err error) {
		kv, err = b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: name, History: 1, TTL: ttl,
			Storage: jetstream.FileStorage, Replicas: b.replicas})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bus: bucket %s: %w", name, err)
	}
	return &Bucket{kv: kv, js: b.js, name: name}, nil
}

// ConsistentBucket opens the bucket name, creating it if new, as Bucket does, except
// that its reads are answered by the leader of its stream: a value written by one
// process (and stored: Put, PutMany) is what any other reads next. A Bucket's reads may
// be answered by any server that keeps it, one that may not have the write yet (a
// key-value bucket allows "direct" reads), which is faster and fine for values that may
// lag; a hand-out acknowledged at another replica a moment after it was written is not.
func (b *Bus) ConsistentBucket(ctx context.Context, name string, ttl time.Duration) (*Bucket, error) {
	dup := 2 * time.Minute
	if ttl > 0 && ttl < dup {
		dup = ttl
	}
	var kv jetstream.KeyValue
	err := setup(ctx, func(ctx context.Context) error {
		_, err := b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "KV_" + name, Subjects: []string{"$KV." + name + ".>"},
			MaxMsgsPerSubject: 1, MaxAge: ttl, MaxBytes: -1, MaxMsgSize: -1, MaxMsgs: -1, MaxConsumers: -1,
			Storage: jetstream.FileStorage, Replicas: b.replicas, AllowRollup: true, DenyDelete: true, Duplicates: dup,
			Discard: jetstream.DiscardNew, AllowDirect: false})
		if err != nil {
			return err
		}
		kv, err = b.js.KeyValue(ctx, name) // bound to a stream without direct reads: read from the leader
		return err
	})
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

// Entry is a key's value with its revision, which DeleteIf names.
type Entry struct {
	Key      string
	Value    []byte
	Revision uint64
}

// Entry returns the value of key with its revision, or ErrNotFound.
func (k *Bucket) Entry(ctx context.Context, key string) (Entry, error) {
	e, err := k.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Entry{}, ErrNotFound
	}
	if err != nil {
		return Entry{}, err
	}
	return Entry{Key: key, Value: e.Value(), Revision: e.Revision()}, nil
}

// PutMany sets each entry's key to its value (their revisions are not read) and waits
// until all are stored: the puts are sent at once, not one round trip each.
func (k *Bucket) PutMany(ctx context.Context, es []Entry) error {
	futures := make([]jetstream.PubAckFuture, 0, len(es))
	for _, e := range es {
		f, err := k.js.PublishAsync("$KV."+k.name+"."+e.Key, e.Value)
		if err != nil {
			return fmt.Errorf("bus: bucket %s: put %s: %w", k.name, e.Key, err)
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("bus: bucket %s: put: %w", k.name, err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Create sets key to value unless the key holds a value; ok is false when it does.
func (k *Bucket) Create(ctx context.Context, key string, value []byte) (ok bool, err error) {
	_, err = k.kv.Create(ctx, key, value)
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return false, nil
	}
	return err == nil, err
}

// DeleteIf deletes key if its revision is still rev: of several callers that read the
// same revision, one deletes it (ok) and the others are told it changed (not ok).
func (k *Bucket) DeleteIf(ctx context.Context, key string, rev uint64) (ok bool, err error) {
	err = k.kv.Delete(ctx, key, jetstream.LastRevision(rev))
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return false, nil
	}
	return err == nil, err
}
