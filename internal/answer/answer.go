// Package answer makes the hub's answers to DCI calls away from HTTP: the items of a
// search asked of the exchange (Ask) and answered (SearchResponse), and the asynchronous
// calls — search, subscribe, unsubscribe, txn/status — stored as transactions (Accept),
// answered by a worker (Worker.Run: each search item through the exchange, subscriptions
// created or cancelled, every item sealed in the audit log), signed with the hub's key and
// delivered to the caller's callback URL with retries. internal/httpapi decodes the
// requests and encodes what this package answers; internal/hub starts the worker.
package answer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// Registries maps the path segment of each DCI registry to the directory's registry type
// (dci.Registries).
var Registries = func() map[string]string {
	m := make(map[string]string, len(dci.Registries))
	for _, r := range dci.Registries {
		m[r.Path] = r.Kind
	}
	return m
}()

// Meta is what the hub reads from header.meta: the purpose of the question, the fields
// wanted, and the date asked about. All optional.
type Meta struct {
	Purpose string   `json:"purpose"`
	Fields  []string `json:"fields"`
	OnDate  string   `json:"on_date"`
}

// plainMeta reads the common case of header.meta, the hub's own: purpose and on_date
// strings, fields a list of strings, as json.Unmarshal would; false for anything else
// (other or differently cased names, null, other types), which is left to it.
func plainMeta(raw json.RawMessage, m *Meta) bool {
	return rawjson.EachMember(raw, func(name string, v []byte) bool {
		var ok bool
		switch name {
		case "purpose":
			m.Purpose, ok = rawjson.Unquote(v)
		case "on_date":
			m.OnDate, ok = rawjson.Unquote(v)
		case "fields":
			var list []json.RawMessage
			if list, ok = rawjson.Elements(v); ok && !rawjson.IsNull(v) {
				m.Fields = make([]string, len(list))
				for i, f := range list {
					if m.Fields[i], ok = rawjson.Unquote(f); !ok {
						break
					}
				}
			} else {
				ok = false
			}
		}
		return ok
	})
}

// ReadMeta reads header.meta.
func ReadMeta(raw json.RawMessage) (Meta, error) {
	var m Meta
	if len(raw) == 0 || raw[0] != '{' {
		return m, nil // absent, or a string as the samples send: nothing asked
	}
	if !plainMeta(raw, &m) {
		m = Meta{}
		if err := json.Unmarshal(raw, &m); err != nil {
			return m, dci.Coded(fault.Invalid, dci.ErrRequestBad, "header.meta", "must hold purpose (string), fields (list of strings) and on_date (YYYY-MM-DD)")
		}
	}
	if _, err := date.Parse(m.OnDate); err != nil {
		return m, dci.Coded(fault.Invalid, dci.ErrRequestBad, "header.meta.on_date", err.Error())
	}
	return m, nil
}

// Ask runs each item of a search through the exchange; a rejected item's answer names
// the persons its query names, as far as it could be read.
func Ask(ctx context.Context, ex *exchange.Exchange, env *dci.Envelope[dci.SearchRequest], caller exchange.Caller, service string, m Meta, body []byte, start time.Time) ([]exchange.Ask, []exchange.Answer) {
	day, _ := date.Parse(m.OnDate)
	items := env.Message.SearchRequest
	asks := make([]exchange.Ask, len(items))
	answers := make([]exchange.Answer, len(items))
	for i, it := range items {
		asks[i] = exchange.Ask{Caller: caller, Service: service, Purpose: m.Purpose, Fields: m.Fields, Day: day, Request: body, MessageID: env.Header.MessageID, Start: start}
		if it.Err != nil {
			answers[i] = exchange.Answer{Err: it.Err, Status: http.StatusBadRequest, Decision: exchange.Decision{Code: exchange.DenyInvalid, Reasons: []string{dci.SafeMessage(it.Err)}}}
			if it.Asked != nil { // the persons it asked about find the attempt
				answers[i].Persons = exchange.Named(*it.Asked)
			}
			continue
		}
		asks[i].Query = *it.Query
		answers[i] = ex.Search(ctx, asks[i])
	}
	return asks, answers
}

// SearchResponse is the DCI answer to env from the exchange's answers, one per item.
func SearchResponse(env *dci.Envelope[dci.SearchRequest], answers []exchange.Answer, registry, correlationID string) (*dci.Callback[dci.SearchResponse], error) {
	outs := make([]dci.Outcome, len(answers))
	for i, a := range answers {
		outs[i] = dci.Outcome{Total: a.Total, Err: a.Err, Records: a.Items(), RecordType: a.RecordType}
	}
	return dci.NewSearchResponse(env, dci.Reply{MessageID: NewID(), CorrelationID: correlationID, SenderID: outbound.SenderID,
		RegType: dci.RegistryOf(registry).Type, RecordType: dci.RegistryOf(registry).RecordType, Now: time.Now()}, outs)
}

// NewID is a random id: message and correlation ids.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
