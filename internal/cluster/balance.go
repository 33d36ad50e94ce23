// Package cluster runs several replicas of the hub on one machine (issue #17): the
// `crossroads serve` processes (replica.go), a round-robin load balancer in front of them
// (balance.go), and the whole set on a scratch PostgreSQL schema and a 3-node NATS
// JetStream cluster (cluster.go), for `crossroads cluster demo`, `crossroads bench
// cluster` and the tests of rolling restarts. Nothing here is needed to run a replica in
// production: there, an operator's load balancer and NATS cluster take these places.
package cluster

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxBuffered is the largest request body the balancer holds to send it again to another
// replica; a larger one is streamed to one replica, and not tried elsewhere.
const maxBuffered = 8 << 20

// Balancer spreads requests over replicas in turn. A request whose connection a replica
// refused (it is stopped or starting) goes to the next one: it never reached a hub, so
// sending it again cannot repeat an exchange. A request a replica received and did not
// answer (it died meanwhile) is not sent again: the client gets 502, as from any proxy,
// and decides (a DCI message id makes a repeat recognisable).
type Balancer struct {
	backends []string // base URLs: http://host:port
	next     atomic.Uint64
	client   *http.Client

	mu   sync.Mutex
	down map[int]time.Time // until when a replica that refused a connection is skipped
	// Served counts the answers each replica gave; Failed the requests no replica answered.
	served []int64
	failed int64
}

// NewBalancer returns a balancer over the replicas at backends (base URLs).
func NewBalancer(backends []string) *Balancer {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     30 * time.Second,
	}
	return &Balancer{backends: backends, client: &http.Client{Transport: tr, Timeout: 5 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		down: map[int]time.Time{}, served: make([]int64, len(backends))}
}

// Stats returns how many answers each replica gave and how many requests none answered.
func (b *Balancer) Stats() (served []int64, failed int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int64(nil), b.served...), b.failed
}

func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, replayable, err := readBody(r)
	if err != nil {
		http.Error(w, "balancer: could not read the request body", http.StatusBadRequest)
		return
	}
	start := int(b.next.Add(1))
	for try := range len(b.backends) {
		i := (start + try) % len(b.backends)
		if b.isDown(i) && try < len(b.backends)-1 {
			continue
		}
		resp, err := b.send(r, i, body, replayable)
		if err != nil {
			if refused(err) && replayable {
				b.markDown(i)
				continue // it never reached a hub: the next replica
			}
			b.count(-1)
			http.Error(w, "balancer: the replica did not answer: "+err.Error(), http.StatusBadGateway)
			return
		}
		b.count(i)
		copyResponse(w, resp)
		return
	}
	b.count(-1)
	http.Error(w, "balancer: no replica accepts connections", http.StatusServiceUnavailable)
}

// readBody holds the body when it is small enough to send again.
func readBody(r *http.Request) (body []byte, replayable bool, err error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, true, nil
	}
	if r.ContentLength > maxBuffered {
		return nil, false, nil
	}
	body, err = io.ReadAll(io.LimitReader(r.Body, maxBuffered+1))
	if err != nil {
		return nil, false, err
	}
	if len(body) > maxBuffered {
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		return nil, false, nil
	}
	return body, true, nil
}

// send forwards r to replica i.
func (b *Balancer) send(r *http.Request, i int, body []byte, replayable bool) (*http.Response, error) {
	var rd io.Reader = r.Body
	if replayable {
		rd = bytes.NewReader(body)
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, b.backends[i]+r.URL.RequestURI(), rd)
	if err != nil {
		return nil, err
	}
	out.Header = r.Header.Clone()
	out.Header.Del("Connection")
	out.Header.Set("X-Forwarded-For", clientIP(r.RemoteAddr))
	if replayable {
		out.ContentLength = int64(len(body))
		// With GetBody, Go's transport sends again, on a new connection, a request it
		// could not write at all on a kept-alive one the replica had closed (a graceful
		// stop closes its idle connections). Not one written and unanswered: the replica
		// may have received it, and may have answered it before it died. (Marking requests
		// idempotent, Idempotency-Key, would have the transport send those again too, and
		// its failed dial would then look like a refusal here: a second exchange.)
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	} else {
		out.ContentLength = r.ContentLength
	}
	return b.client.Do(out)
}

func copyResponse(w http.ResponseWriter, resp *http.Response) {
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	f, _ := w.(http.Flusher)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			if f != nil && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
				f.Flush()
			}
		}
		if err != nil {
			return
		}
	}
}

// refused is a connection the replica's address refused: nothing was sent.
func refused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func clientIP(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return host
}

func (b *Balancer) isDown(i int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return time.Now().Before(b.down[i])
}

func (b *Balancer) markDown(i int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.down[i] = time.Now().Add(time.Second)
}

func (b *Balancer) count(i int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if i < 0 {
		b.failed++
	} else {
		b.served[i]++
	}
}
