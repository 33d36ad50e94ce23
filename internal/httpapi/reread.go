package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/crossroads-hub/crossroads/internal/answer"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/txn"
)

// reread is a transaction status that hands out a stored search answer again: an
// exchange of its own, decided today (exchange.Reread) and sealed before it is sent.
type reread struct {
	ask exchange.Ask
	ans exchange.Answer
}

// rereadSearch decides whether t's stored answer may be handed out again to the caller.
func (s *Server) rereadSearch(claims oauth.Claims, t txn.Txn, request []byte, messageID string) (*reread, error) {
	env, err := dci.DecodeSearch(t.Request)
	if err != nil {
		return nil, err
	}
	m, err := answer.ReadMeta(env.Header.Meta)
	if err != nil {
		return nil, err
	}
	day, _ := date.Parse(m.OnDate)
	if day.IsZero() {
		day = date.FromTime(t.Created) // the question was about the day it was asked
	}
	var persons []string
	for _, it := range env.Message.SearchRequest {
		if it.Query != nil {
			persons = append(persons, exchange.Named(*it.Query)...)
		}
	}
	carried, unkeyed := storedRecords(t.Response, &persons)
	ask := exchange.Ask{Caller: exchange.Caller{ClientID: claims.ClientID, Institution: claims.Institution},
		Service: s.serviceFor(registries[t.Registry], env.Header.ReceiverID), Purpose: m.Purpose, Fields: m.Fields, Day: day,
		Request: request, MessageID: messageID, Start: time.Now()}
	return &reread{ask: ask, ans: s.exchange.Reread(ask, persons, carried, unkeyed)}, nil
}

// storedRecords reads the records of a stored on-search: the persons they concern (added
// to persons), the fields they carry as dotted paths, and whether one has no person.
func storedRecords(callback []byte, persons *[]string) (carried []string, unkeyed bool) {
	var cb struct {
		Message struct {
			SearchResponse []struct {
				Data struct {
					RegRecords []map[string]any `json:"reg_records"`
				} `json:"data"`
			} `json:"search_response"`
		} `json:"message"`
	}
	if json.Unmarshal(callback, &cb) != nil {
		return nil, true
	}
	for _, it := range cb.Message.SearchResponse {
		for _, r := range it.Data.RegRecords {
			p, ok := r["person"].(string)
			if !ok || p == "" {
				unkeyed = true
			} else if !slices.Contains(*persons, p) {
				*persons = append(*persons, p)
			}
			leaves("", r, &carried)
		}
	}
	return carried, unkeyed
}

// leaves adds the dotted paths of the values of r (JSON-LD markers left out).
func leaves(prefix string, r map[string]any, out *[]string) {
	for k, v := range r {
		if len(k) > 0 && k[0] == '@' {
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			leaves(prefix+k+".", sub, out)
			continue
		}
		if !slices.Contains(*out, prefix+k) {
			*out = append(*out, prefix+k)
		}
	}
}

// sealReread records a status read, response being what is sent, and names its record
// in X-Audit-Records.
func (s *Server) sealReread(ctx context.Context, w http.ResponseWriter, rr *reread, response []byte) error {
	seq, err := s.exchange.Seal(ctx, rr.ask, rr.ans, response)
	if err != nil {
		return err
	}
	w.Header().Set("X-Audit-Records", strconv.FormatInt(seq, 10))
	return nil
}
