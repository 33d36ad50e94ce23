package httpapi

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"
)

// tailOnly is a pipeline whose tail sends nothing until its context ends.
type tailOnly struct {
	Events
	started chan struct{}
}

func (f tailOnly) Tail(ctx context.Context) <-chan []byte {
	ch := make(chan []byte)
	close(f.started)
	context.AfterFunc(ctx, func() { close(ch) })
	return ch
}

// TestEndStreams: the events tail in flight ends when the server starts shutting down
// (EndStreams), its answer complete; a long-lived answer begun after ends at once.
func TestEndStreams(t *testing.T) {
	f := tailOnly{started: make(chan struct{})}
	s := NewServer(Deps{Events: f})
	w := httptest.NewRecorder()
	ended := make(chan error, 1)
	go func() { ended <- s.eventsTail(w, httptest.NewRequest("GET", "/admin/events/tail", nil), "admin") }()
	<-f.started
	s.EndStreams()
	select {
	case err := <-ended:
		if err != nil || w.Code != 200 {
			t.Errorf("the tail ended with %d, %v; want 200 and no error", w.Code, err)
		}
	case <-time.After(time.Minute): // a tail has no end of its own
		t.Fatal("the tail went on after EndStreams")
	}
	ctx, done := s.stream(httptest.NewRequest("GET", "/events/x/next", nil))
	defer done()
	if ctx.Err() == nil {
		t.Error("a long-lived answer begun after EndStreams is not ended")
	}
}
