// Package dciclient is the hub's client of DCI registries: it asks a remote authentic
// source (or the built-in one over HTTP) a synchronous search, with a timeout, and turns
// its answer back into records for the exchange.
package dciclient

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// Client asks one registry. It is safe for concurrent use.
type Client struct {
	BaseURL  string // the registry's base, e.g. https://civil.example/dci/crvs; /registry/sync/search is appended
	SenderID string // the hub's id towards the registry
	HTTP     *http.Client
	Timeout  time.Duration                             // per call; default 5 s
	Token    func(ctx context.Context) (string, error) // the bearer token to present; nil: none
}

// Search implements exchange.Source.
func (c *Client) Search(ctx context.Context, r exchange.SourceRequest) (exchange.SourceResult, error) {
	body, err := json.Marshal(envelope(c.SenderID, r))
	if err != nil {
		return exchange.SourceResult{}, fault.Wrap(err, "encode search")
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.BaseURL, "/")+"/registry/sync/search", bytes.NewReader(body))
	if err != nil {
		return exchange.SourceResult{}, fault.Wrap(err, "build request")
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Token != nil {
		tok, err := c.Token(ctx)
		if err != nil {
			return exchange.SourceResult{}, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return exchange.SourceResult{}, fault.Unavailablef(err, "the source did not answer within %s", timeout)
		}
		return exchange.SourceResult{}, fault.Unavailablef(err, "the source cannot be reached")
	}
	defer resp.Body.Close()
	return decodeAnswer(resp)
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// envelope writes the question as a DCI search with one item.
func envelope(sender string, r exchange.SourceRequest) map[string]any {
	now := dci.Timestamp(time.Now())
	criteria := map[string]any{"query_type": "idtype-value", "pagination": map[string]any{"page_size": max(1, r.Query.PageSize), "page_number": max(1, r.Query.Page)}}
	if r.Query.Kind == query.KindID {
		criteria["query"] = map[string]any{"type": r.Query.IDType, "value": r.Query.IDValue}
	} else {
		criteria["query_type"] = "expression"
		criteria["query"] = map[string]any{"expression": map[string]any{"query": mongo(r.Query.Filter)}}
	}
	meta := map[string]any{"fields": r.Fields}
	if !r.Day.IsZero() {
		meta["on_date"] = r.Day.String()
	}
	return map[string]any{
		"signature": "",
		"header": map[string]any{"version": "1.0.0", "message_id": newID(), "message_ts": now, "action": "search",
			"sender_id": sender, "receiver_id": r.Service, "total_count": 1, "meta": meta},
		"message": map[string]any{"transaction_id": newID(), "search_request": []any{
			map[string]any{"reference_id": newID(), "timestamp": now, "search_criteria": criteria, "locale": "eng"}}},
	}
}

// mongo writes a condition in the hub's expression dialect (see internal/dci).
func mongo(c *query.Cond) map[string]any {
	if c == nil {
		return map[string]any{}
	}
	switch c.Op {
	case query.And, query.Or:
		args := make([]any, len(c.Args))
		for i, a := range c.Args {
			args[i] = mongo(a)
		}
		return map[string]any{"$" + c.Op: args}
	case query.Not:
		return map[string]any{"$not": mongo(c.Args[0])}
	}
	return map[string]any{c.Attr: map[string]any{"$" + c.Op: c.Value}}
}

// decodeAnswer reads a sync search answer with one item.
func decodeAnswer(resp *http.Response) (exchange.SourceResult, error) {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return exchange.SourceResult{}, fault.Unavailablef(err, "the source's answer was cut off")
	}
	if resp.StatusCode != http.StatusOK {
		return exchange.SourceResult{}, fault.Unavailablef(fmt.Errorf("status %d: %.200s", resp.StatusCode, b), "the source answered %d", resp.StatusCode)
	}
	var cb struct {
		Message struct {
			SearchResponse []struct {
				Status              string `json:"status"`
				StatusReasonMessage string `json:"status_reason_message"`
				Data                struct {
					RegRecords []map[string]any `json:"reg_records"`
				} `json:"data"`
				Pagination struct {
					TotalCount int `json:"total_count"`
				} `json:"pagination"`
			} `json:"search_response"`
		} `json:"message"`
	}
	if err := json.Unmarshal(b, &cb); err != nil || len(cb.Message.SearchResponse) != 1 {
		return exchange.SourceResult{}, fault.Unavailablef(err, "the source's answer is not a DCI search response with one item")
	}
	item := cb.Message.SearchResponse[0]
	if item.Status != dci.StatusSuccess {
		return exchange.SourceResult{}, fault.Invalidf("query", "the source refused the question: %.200s", item.StatusReasonMessage)
	}
	recs := item.Data.RegRecords
	if recs == nil {
		recs = []map[string]any{}
	}
	return exchange.SourceResult{Records: recs, Total: item.Pagination.TotalCount}, nil
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
