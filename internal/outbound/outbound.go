// Package outbound is how the hub, and its CLI, send to another system: the DCI
// envelope signed with the hub's key (Envelope), a POST with a time-out whose answer is
// read within a bound and whose connection is drained and closed (Post), exponential
// back-off with jitter between attempts (Backoff), a cache of tokens renewed before
// they expire and fetched once for concurrent callers (Tokens; HubTokens for the tokens
// the hub signs for itself), and the OAuth2 client-credentials grant where the hub or
// the CLI is a client (ClientToken). Every sender goes through it, so that none drifts
// away from the others or goes without a time-out.
//
// It imports no driver; net/http is its business. It checks no URL: callers check
// theirs (directory.ParseEndpoint, directory.CallbackUnder) before they send.
package outbound

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// SenderID is the hub's id in what it sends: the sender_id of its DCI messages, the
// subscriber id of its signatures, the issuer of its push tokens. (oauth.Audience, the
// same word, is another thing: whom the access tokens the hub issues are for.)
const SenderID = "crossroads"

// DefaultTimeout bounds a request whose caller names no time-out of its own.
const DefaultTimeout = 10 * time.Second

// drainLimit is how much of an answer nobody reads is drained, so that its connection
// can carry the next request; a longer one closes the connection.
const drainLimit = 64 << 10

// Request is one POST of a JSON body.
type Request struct {
	URL     string
	Body    []byte
	Token   string            // presented as a bearer token; "": none
	Header  map[string]string // other headers (Idempotency-Key, …)
	Timeout time.Duration     // from the request to the end of the answer; 0: DefaultTimeout
	Limit   int64             // how much of the answer to read into Response.Body; 0: none
}

// Response is the status of an answer and as much of its body as the request asked.
type Response struct {
	Status int
	Body   []byte
}

// OK reports a 2xx status.
func (r Response) OK() bool { return r.Status/100 == 2 }

// ErrCutOff says an answer could not be read to its end (or its limit).
var ErrCutOff = errors.New("the answer was cut off")

// Post sends r with c (nil: http.DefaultClient) within r.Timeout. A status other than
// 2xx is no error: the caller says what it means. The answer's body is read up to
// r.Limit, the rest drained (up to 64 KiB) and closed.
func Post(ctx context.Context, c *http.Client, r Request) (Response, error) {
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(r.Timeout, DefaultTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	out := Response{Status: resp.StatusCode}
	if r.Limit > 0 {
		if out.Body, err = readBody(resp.Body, resp.ContentLength, r.Limit); err != nil {
			return out, fmt.Errorf("%w: %w", ErrCutOff, err)
		}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	return out, nil
}

// readBody reads an answer of announced length n (-1 if unknown), in one allocation
// when n is known; an answer longer than limit is cut there.
func readBody(body io.Reader, n, limit int64) ([]byte, error) {
	if n <= 0 || n > limit {
		return io.ReadAll(io.LimitReader(body, limit))
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(body, b); err != nil {
		return nil, err
	}
	return b, nil
}
