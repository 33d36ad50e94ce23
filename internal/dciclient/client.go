// Package dciclient is the hub's client of DCI registries: it asks a remote authentic
// source (or the built-in one over HTTP) a synchronous search, with a timeout, and turns
// its answer back into records for the exchange.
package dciclient

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/query"
	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// Client asks one registry. It is safe for concurrent use.
type Client struct {
	BaseURL  string // the registry's base, e.g. https://civil.example/dci/crvs; /registry/sync/search is appended
	SenderID string // the hub's id towards the registry
	HTTP     *http.Client
	Timeout  time.Duration                             // per call; default 5 s, 30 s asynchronous
	Token    func(ctx context.Context) (string, error) // the bearer token to present; nil: none

	// Asynchronous registries (Async set): the client posts registry/search with
	// sender_uri CallbackURL, and waits for the on-search that Async hands it, from
	// Institution (the source's).
	Async       *Callbacks
	CallbackURL string
	Institution string

	// AsOf says the registry answers header.meta.on_date with the record as it stood
	// that day. Without it, a question about a past day is refused here: the registry
	// would answer it with today's data.
	AsOf bool
}

// Search implements exchange.Source.
func (c *Client) Search(ctx context.Context, r exchange.SourceRequest) (exchange.SourceResult, error) {
	if r.Past() && !c.AsOf {
		return exchange.SourceResult{}, fault.Invalidf("header.meta.on_date", "the registry of %s answers about today only", r.Service)
	}
	m := envelope(c.SenderID, r)
	timeout, path := c.Timeout, "/registry/sync/search"
	if c.Async != nil {
		m.Header.SenderURI, path = c.CallbackURL, "/registry/search"
		if timeout == 0 {
			timeout = 30 * time.Second
		}
	}
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	body, err := m.appendJSON(make([]byte, 0, 1024)) // a search of one item is some 600 bytes
	if err != nil {
		return exchange.SourceResult{}, fault.Wrap(err, "encode search")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var answer <-chan []byte
	if c.Async != nil { // waiting before asking: the callback may come before the ACK
		var forget func()
		answer, forget = c.Async.await(m.Message.TransactionID, c.Institution, "on-search")
		defer forget()
	}
	resp, err := c.post(ctx, path, body, timeout)
	switch {
	case errors.Is(err, outbound.ErrCutOff):
		return exchange.SourceResult{}, fault.Unavailablef(err, "the source's answer was cut off")
	case err != nil && ctx.Err() != nil:
		return exchange.SourceResult{}, fault.Unavailablef(err, "the source did not answer within %s", timeout)
	case err != nil:
		return exchange.SourceResult{}, fault.Unavailablef(err, "the source cannot be reached")
	}
	b := resp.Body
	if !resp.OK() || (c.Async == nil && resp.Status != http.StatusOK) {
		return exchange.SourceResult{}, fault.Unavailablef(fmt.Errorf("status %d: %.200s", resp.Status, b), "the source answered %d", resp.Status)
	}
	if c.Async == nil {
		return decodeAnswer(b)
	}
	if err := checkAck(b); err != nil {
		return exchange.SourceResult{}, err
	}
	select {
	case cb := <-answer:
		return decodeAnswer(cb)
	case <-ctx.Done():
		return exchange.SourceResult{}, fault.Unavailablef(ctx.Err(), "the source did not call back within %s", timeout)
	}
}

// maxAnswer bounds a registry's answer: a longer one is cut there.
const maxAnswer = 32 << 20

// post sends body to the registry's path, with the hub's token, and reads the answer.
func (c *Client) post(ctx context.Context, path string, body []byte, timeout time.Duration) (outbound.Response, error) {
	var tok string
	if c.Token != nil {
		var err error
		if tok, err = c.Token(ctx); err != nil {
			return outbound.Response{}, err
		}
	}
	return outbound.Post(ctx, c.HTTP, outbound.Request{URL: strings.TrimSuffix(c.BaseURL, "/") + path, Body: body,
		Token: tok, Timeout: timeout, Limit: maxAnswer})
}

// checkAck reads a registry's acknowledgement of an asynchronous call: ACK, or an error.
func checkAck(b []byte) error {
	if !rawjson.Valid(b) {
		return fault.Unavailablef(errors.New("not JSON"), "the source's acknowledgement is not JSON")
	}
	message, _ := rawjson.Member(b, "message")
	status, _ := rawjson.Member(message, "ack_status")
	if s, _ := rawjson.Unquote(status); s != "ACK" {
		why, _ := rawjson.Member(message, "error")
		return fault.Unavailablef(fmt.Errorf("ack_status %q: %.200s", s, why), "the source did not accept the question")
	}
	return nil
}

// searchMessage is a DCI search with one item, as the hub sends it to a source.
type searchMessage struct {
	Signature string `json:"signature"`
	Header    struct {
		Version    string `json:"version"`
		MessageID  string `json:"message_id"`
		MessageTS  string `json:"message_ts"`
		Action     string `json:"action"`
		SenderID   string `json:"sender_id"`
		ReceiverID string `json:"receiver_id"`
		SenderURI  string `json:"sender_uri,omitempty"`
		TotalCount int    `json:"total_count"`
		Meta       struct {
			Fields []string `json:"fields"`
			OnDate string   `json:"on_date,omitempty"`
		} `json:"meta"`
	} `json:"header"`
	Message struct {
		TransactionID string        `json:"transaction_id"`
		SearchRequest [1]searchItem `json:"search_request"`
	} `json:"message"`
}

type searchItem struct {
	ReferenceID    string `json:"reference_id"`
	Timestamp      string `json:"timestamp"`
	SearchCriteria struct {
		QueryType  string `json:"query_type"`
		Query      any    `json:"query"`
		Pagination struct {
			PageSize   int `json:"page_size"`
			PageNumber int `json:"page_number"`
		} `json:"pagination"`
	} `json:"search_criteria"`
	Locale string `json:"locale"`
}

type idQuery struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// envelope writes the question as a DCI search with one item.
func envelope(sender string, r exchange.SourceRequest) *searchMessage {
	now := dci.Timestamp(time.Now())
	m := &searchMessage{}
	h := &m.Header
	h.Version, h.MessageID, h.MessageTS, h.Action, h.SenderID, h.ReceiverID, h.TotalCount = "1.0.0", newID(), now, "search", sender, r.Service, 1
	h.Meta.Fields = r.Fields
	if !r.Day.IsZero() {
		h.Meta.OnDate = r.Day.String()
	}
	m.Message.TransactionID = newID()
	it := &m.Message.SearchRequest[0]
	it.ReferenceID, it.Timestamp, it.Locale = newID(), now, "eng"
	c := &it.SearchCriteria
	c.Pagination.PageSize, c.Pagination.PageNumber = max(1, r.Query.PageSize), max(1, r.Query.Page)
	if r.Query.Kind == query.KindID {
		c.QueryType, c.Query = "idtype-value", idQuery{r.Query.IDType, r.Query.IDValue}
	} else {
		c.QueryType, c.Query = "expression", map[string]any{"expression": map[string]any{"query": mongo(r.Query.Filter)}}
	}
	return m
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

// decodeAnswer reads a search answer (sync search response or on-search callback) with
// one item. The records stay as the source sent them (the exchange minimises them
// without decoding); only each one's person is read.
func decodeAnswer(b []byte) (exchange.SourceResult, error) {
	notDCI := func(why string) error {
		return fault.Unavailablef(errors.New(why), "the source's answer is not a DCI search response with one item")
	}
	if !rawjson.Valid(b) {
		return exchange.SourceResult{}, notDCI("not JSON")
	}
	message, _ := rawjson.Member(b, "message")
	list, _ := rawjson.Member(message, "search_response")
	items, ok := rawjson.Elements(list)
	if !ok || len(items) != 1 {
		return exchange.SourceResult{}, notDCI("search_response is not a list of one item")
	}
	var status, reason, data, pagination []byte
	rawjson.EachMember(items[0], func(name string, v []byte) bool {
		switch name {
		case "status":
			status = v
		case "status_reason_message":
			reason = v
		case "data":
			data = v
		case "pagination":
			pagination = v
		}
		return true
	})
	if s, _ := rawjson.Unquote(status); s != dci.StatusSuccess {
		why, _ := rawjson.Unquote(reason)
		return exchange.SourceResult{}, fault.Invalidf("query", "the source refused the question: %.200s", why)
	}
	regRecords, _ := rawjson.Member(data, "reg_records")
	records, ok := rawjson.Elements(regRecords)
	if !ok { // CRVS and FR type reg_records as one object
		records = []json.RawMessage{regRecords}
	}
	out := exchange.SourceResult{Raw: make([]exchange.RawRecord, 0, len(records))}
	if t, _ := rawjson.Member(data, "reg_record_type"); t != nil {
		out.RecordType, _ = rawjson.Unquote(t) // kept in the hub's answer, as the source named it
	}
	for _, r := range records {
		if rawjson.IsNull(r) {
			continue
		}
		person, isObject := rawjson.Member(r, "person")
		if !isObject && !rawjson.EachMember(r, func(string, []byte) bool { return true }) {
			return exchange.SourceResult{}, notDCI("a record is not a JSON object")
		}
		p, _ := rawjson.Unquote(person)
		out.Raw = append(out.Raw, exchange.RawRecord{Person: p, JSON: r})
	}
	if total, ok := rawjson.Member(pagination, "total_count"); ok {
		if s, isString := rawjson.Unquote(total); isString { // tolerated as a string
			total = []byte(s)
		}
		out.Total, _ = strconv.Atoi(string(total))
	}
	return out, nil
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
