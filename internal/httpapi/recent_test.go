package httpapi

import (
	"testing"
	"time"
)

func TestRecent(t *testing.T) {
	var r recent
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	if r.seen("a", t0) {
		t.Fatal("a seen before it was sent")
	}
	if !r.seen("a", t0.Add(time.Minute)) {
		t.Error("a not seen a minute later")
	}
	if !r.seen("a", t0.Add(6*time.Minute)) { // rotated once: a is in the older generation
		t.Error("a not seen 6 minutes later")
	}
	if r.seen("a", t0.Add(12*time.Minute)) { // rotated twice: forgotten, and remembered again
		t.Error("a still seen 12 minutes later")
	}
	if r.seen("b", t0.Add(12*time.Minute)) || !r.seen("b", t0.Add(12*time.Minute)) {
		t.Error("b")
	}
}
