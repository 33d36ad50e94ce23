package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Load sends synchronous DCI searches (one person each, a message id of its own) through
// URL with Clients concurrent clients, and remembers every answered one: the audit
// record the hub named (X-Audit-Records) and the hash of the answer received, so that
// each can be looked for in the log afterwards.
type Load struct {
	URL, Token, Person string
	Clients            int
	Prefix             string // of the message ids
	// Renew, when set, gets a new access token every RenewEvery (default 2 minutes):
	// the hub's tokens last 5 minutes, and a load that runs longer (the cluster demo)
	// would otherwise be refused 401 from then on.
	Renew      func(ctx context.Context) (string, error)
	RenewEvery time.Duration

	n      atomic.Int64
	token  atomic.Pointer[string]
	mu     sync.Mutex
	ok     []Answered
	failed []string // why, per failed request
}

// Answered is an exchange the hub answered 200.
type Answered struct {
	MessageID string
	Seq       int64    // the audit record the hub named
	Hash      [32]byte // SHA-256 of the answer's body
}

// Run sends until ctx ends.
func (l *Load) Run(ctx context.Context) {
	client := &http.Client{Timeout: 30 * time.Second}
	l.token.Store(&l.Token)
	var wg sync.WaitGroup
	if l.Renew != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.renew(ctx)
		}()
	}
	for range max(l.Clients, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				l.one(ctx, client)
			}
		}()
	}
	wg.Wait()
}

func (l *Load) one(ctx context.Context, c *http.Client) {
	id := l.Prefix + strconv.FormatInt(l.n.Add(1), 10)
	ts := time.Now().UTC().Format(time.RFC3339)
	body := fmt.Sprintf(`{"signature":"","header":{"version":"1.0.0","message_id":%q,"message_ts":%q,"action":"search","sender_id":"cluster","total_count":1},`+
		`"message":{"transaction_id":%q,"search_request":[{"reference_id":"r","timestamp":%q,"search_criteria":{"query_type":"idtype-value","query":{"type":"PN","value":%q}},"locale":"eng"}]}}`,
		id, ts, id, ts, l.Person)
	req, _ := http.NewRequestWithContext(context.WithoutCancel(ctx), "POST", l.URL+"/dci/crvs/registry/sync/search", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+*l.token.Load())
	resp, err := c.Do(req)
	if err != nil {
		l.fail(id, err.Error())
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || !bytes.Contains(b, []byte(l.Person)) {
		l.fail(id, fmt.Sprintf("%d %v %.200s", resp.StatusCode, err, b))
		return
	}
	seq, err := strconv.ParseInt(resp.Header.Get("X-Audit-Records"), 10, 64)
	if err != nil {
		l.fail(id, "no X-Audit-Records")
		return
	}
	l.mu.Lock()
	l.ok = append(l.ok, Answered{MessageID: id, Seq: seq, Hash: sha256.Sum256(b)})
	l.mu.Unlock()
}

// renew replaces the token every RenewEvery until ctx ends; a failure is tried again
// after a second (the requests meanwhile use the token they have).
func (l *Load) renew(ctx context.Context) {
	every := l.RenewEvery
	if every <= 0 {
		every = 2 * time.Minute
	}
	wait := every
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		t, err := l.Renew(ctx)
		if err != nil {
			wait = time.Second
			continue
		}
		l.token.Store(&t)
		wait = every
	}
}

func (l *Load) fail(id, why string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failed = append(l.failed, id+": "+why)
}

// Results returns the answered exchanges and the failures so far.
func (l *Load) Results() (ok []Answered, failed []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Answered(nil), l.ok...), append([]string(nil), l.failed...)
}

// Counts returns how many were answered and how many failed so far.
func (l *Load) Counts() (ok, failed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ok), len(l.failed)
}
