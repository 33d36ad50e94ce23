package events

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bus"
)

// setAside puts a copy for subscription in DEAD, as a lane that gave up on it does.
func setAside(t *testing.T, b *bus.Bus, subscription, key string) {
	t.Helper()
	body, _ := json.Marshal(delivery{Key: key, Subscription: subscription, Person: "85073003328", LastError: "503", Attempts: 9})
	if _, err := b.Publish(context.Background(), bus.Msg{Subject: "dead." + subscription, Data: body, ID: key}); err != nil {
		t.Fatal(err)
	}
}

// keysOf are the keys of copies as the pipeline lists them.
func keysOf(t *testing.T, list []json.RawMessage) []string {
	t.Helper()
	var out []string
	for _, raw := range list {
		var d delivery
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d.Key)
	}
	return out
}

// TestRetryKeepsUnread: Retry sends again the copies it read and clears only those; a
// copy it did not read (beyond its read limit, or set aside between its read and its
// clearing) stays set aside, as do other subscriptions'.
func TestRetryKeepsUnread(t *testing.T) {
	tests := []struct {
		name      string
		copies    int  // set aside before the retry
		limit     int  // how many Retry reads at once
		during    bool // one more set aside between the read and the clearing
		sent      int
		remaining []string
	}{
		{"all read", 3, 0, false, 3, nil},
		{"beyond the read limit", 5, 3, false, 3, []string{"k3", "k4"}},
		{"set aside during the retry", 3, 0, true, 3, []string{"late"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			b, err := bus.Open(ctx, bus.Config{Dir: t.TempDir(), Name: "test"})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if err := createStreams(ctx, b, time.Hour); err != nil {
				t.Fatal(err)
			}
			for i := range tt.copies {
				setAside(t, b, "sub-a", "k"+strconv.Itoa(i))
			}
			setAside(t, b, "sub-b", "other")
			p := &Pipeline{bus: b, deadReadLimit: tt.limit}
			if tt.during {
				p.afterDeadRead = func() { setAside(t, b, "sub-a", "late") }
			}
			n, err := p.Retry(ctx, "sub-a")
			if err != nil || n != tt.sent {
				t.Fatalf("Retry = %d, %v; want %d", n, err, tt.sent)
			}
			dead, err := p.Dead(ctx, "sub-a", 100)
			if err != nil {
				t.Fatal(err)
			}
			if got := keysOf(t, dead); !slices.Equal(got, tt.remaining) {
				t.Errorf("set aside after Retry: %v; want %v", got, tt.remaining)
			}
			if other, err := p.Dead(ctx, "sub-b", 100); err != nil || !slices.Equal(keysOf(t, other), []string{"other"}) {
				t.Errorf("another subscription's copies after Retry: %v, %v; want [other]", keysOf(t, other), err)
			}
			sent, err := b.Read(ctx, streamDeliveries, "deliveries.sub-a.>", 100, 2*time.Second)
			if err != nil || len(sent) != tt.sent {
				t.Errorf("copies sent again: %d (%v); want %d", len(sent), err, tt.sent)
			}
		})
	}
}
