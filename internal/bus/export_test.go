package bus

import "context"

// DeleteStream lets the tests remove the streams they made on an external server.
func (b *Bus) DeleteStream(ctx context.Context, name string) error {
	return b.js.DeleteStream(ctx, name)
}
