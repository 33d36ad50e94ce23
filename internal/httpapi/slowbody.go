package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Uploads is the minimum rate of request bodies: after Grace spent waiting for a body,
// it must have come at Rate bytes a second on average, counting only the time spent
// waiting for the client (not the time the hub takes between reads, as a batch's
// answer streams). A body slower than that is cut: the request is answered 408 and
// the connection closed, so that a client cannot hold connections open by sending a
// byte now and then (#13). Rate 0: no minimum.
type Uploads struct {
	Rate  int // bytes a second
	Grace time.Duration
}

// DefaultUploads: 4 KiB a second after 10 s.
var DefaultUploads = Uploads{Rate: 4 << 10, Grace: 10 * time.Second}

// slowBody is a request body held to a minimum rate with the connection's read deadline.
type slowBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	u       Uploads
	n       int64         // bytes read
	waited  time.Duration // time spent waiting in Read
	slow    atomic.Bool   // a read was cut for its rate
	stopped atomic.Bool   // reads are over (stop)
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.stopped.Load() {
		return 0, os.ErrDeadlineExceeded
	}
	allowed := b.u.Grace + time.Duration(float64(b.n)/float64(b.u.Rate)*float64(time.Second)) - b.waited
	start := time.Now()
	_ = b.rc.SetReadDeadline(start.Add(max(allowed, 0)))
	n, err := b.ReadCloser.Read(p)
	b.waited += time.Since(start)
	b.n += int64(n)
	switch {
	case err == io.EOF:
		// The body is read: the connection's reads (the server's watch for the client
		// going away) must not meet this deadline.
		_ = b.rc.SetReadDeadline(time.Time{})
	case errors.Is(err, os.ErrDeadlineExceeded) && !b.stopped.Load():
		b.slow.Store(true)
		err = b.tooSlow()
	}
	return n, err
}

func (b *slowBody) tooSlow() error {
	return dci.Coded(fault.Invalid, dci.ErrRequestBad, "body",
		fmt.Sprintf("arrived slower than %d bytes a second after %s; the request was cut", b.u.Rate, b.u.Grace))
}

// stop makes a Read that waits for the client, and those after it, return: the handler
// is done with the body (a batch's stream that ended early).
func (b *slowBody) stop() {
	b.stopped.Store(true)
	_ = b.rc.SetReadDeadline(time.Now())
}

// slowWriter answers 408 instead of what the handler answers when the body was cut for
// its rate before anything was written (the handler saw only a failed read, or its
// context cancelled).
type slowWriter struct {
	*statusWriter
	r     *http.Request
	body  *slowBody
	wrote bool // the header was written
	cut   bool // the 408 was written: what the handler writes is dropped
}

func (w *slowWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	if w.body.slow.Load() {
		w.cut = true
		w.Header().Set("Connection", "close")
		writeProblem(w.statusWriter, http.StatusRequestTimeout, problemFor(w.r, http.StatusRequestTimeout, w.body.tooSlow()).bytes())
		return
	}
	w.statusWriter.WriteHeader(code)
}

func (w *slowWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.cut {
		return len(p), nil
	}
	return w.statusWriter.Write(p)
}

func (w *slowWriter) Unwrap() http.ResponseWriter { return w.statusWriter }

// limitUploads holds r's body to the minimum rate; it returns the writer to answer with.
func (s *Server) limitUploads(sw *statusWriter, r *http.Request) (http.ResponseWriter, *http.Request) {
	if s.uploads.Rate <= 0 || r.Body == nil || r.Body == http.NoBody {
		return sw, r
	}
	b := &slowBody{ReadCloser: r.Body, rc: http.NewResponseController(sw), u: s.uploads}
	r.Body = b
	return &slowWriter{statusWriter: sw, r: r, body: b}, r
}
