package bus

import "context"

// DeleteStream lets the tests remove the streams they made on an external server.
func (b *Bus) DeleteStream(ctx context.Context, name string) error {
	return b.js.DeleteStream(ctx, name)
}

// Replicas is how many servers keep b's streams.
func Replicas(b *Bus) int { return b.replicas }
