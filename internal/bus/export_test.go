package bus

import (
	"context"
	"time"
)

// DeleteStream lets the tests remove the streams they made on an external server.
func (b *Bus) DeleteStream(ctx context.Context, name string) error {
	return b.js.DeleteStream(ctx, name)
}

// Replicas is how many servers keep b's streams.
func Replicas(b *Bus) int { return b.replicas }

// LoseDelivery has the consumer hand its next message to a reader that is gone: a pull
// request from an inbox read once and dropped, as a request cut by its client or left
// on a server that stopped. The message counts as handed out and unacknowledged.
func LoseDelivery(b *Bus, stream, consumer string) error {
	inbox := b.conn.NewInbox()
	sub, err := b.conn.SubscribeSync(inbox)
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	subject := "$JS.API.CONSUMER.MSG.NEXT." + stream + "." + consumer
	if err := b.conn.PublishRequest(subject, inbox, []byte(`{"batch":1,"no_wait":true}`)); err != nil {
		return err
	}
	_, err = sub.NextMsg(5 * time.Second)
	return err
}

// ConsumerLeader names the server leading the consumer, and how many pull requests
// wait on it.
func ConsumerLeader(ctx context.Context, b *Bus, stream, consumer string) (leader string, waiting int, err error) {
	c, err := b.js.Consumer(ctx, stream, consumer)
	if err != nil {
		return "", 0, err
	}
	info := c.CachedInfo()
	if info.Cluster != nil {
		leader = info.Cluster.Leader
	}
	return leader, info.NumWaiting, nil
}

// ConnectedServer names the server b's connection is on.
func ConnectedServer(b *Bus) string { return b.conn.ConnectedServerName() }

// WindowEnd is windowEnd.
var WindowEnd = windowEnd
