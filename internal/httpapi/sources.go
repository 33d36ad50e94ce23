package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/oauth"
)

// builtinSearch serves a built-in source over DCI at /sources/{name}/registry/sync/search.
// Only the hub may call it: the question has been decided already, and the token, signed
// with the hub's key, proves it.
func (s *Server) builtinSearch(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	src, ok := s.builtins[name]
	if !ok {
		return dci.Coded(fault.NotFound, dci.ErrNotFound, "path", "no built-in source "+name)
	}
	if err := s.checkSourceToken(r, name); err != nil {
		return err
	}
	return s.sourceSearch(w, r, src, name)
}

// SourceHandler serves src over DCI sync search with no check of its own, as an
// authentic source does behind its network boundary (benchmarks, tests, examples).
func SourceHandler(src exchange.Source) http.Handler {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	return s.dciAdapt(func(w http.ResponseWriter, r *http.Request) error { return s.sourceSearch(w, r, src, "source") })
}

func (s *Server) sourceSearch(w http.ResponseWriter, r *http.Request, src exchange.Source, name string) error {
	_, env, m, err := readSearch(w, r)
	if err != nil {
		return err
	}
	reg := dci.RegistryOf(name)
	if reg.Path == "" {
		reg = dci.RegistryOf("civil") // SourceHandler: a source of persons
	}
	today := date.FromTime(time.Now())
	day, _ := date.Parse(m.OnDate)
	if day.IsZero() {
		day = today
	}
	outs := make([]dci.Outcome, len(env.Message.SearchRequest))
	for i, it := range env.Message.SearchRequest {
		if it.Err != nil {
			outs[i].Err = it.Err
			continue
		}
		res, err := src.Search(r.Context(), exchange.SourceRequest{Service: env.Header.ReceiverID, Query: *it.Query, Fields: m.Fields, Day: day, Today: today})
		outs[i] = dci.Outcome{Total: res.Total, Err: err}
		for _, rec := range res.Records {
			outs[i].Records = append(outs[i].Records, rec)
		}
		for _, rec := range res.Raw {
			outs[i].Records = append(outs[i].Records, json.RawMessage(rec.JSON))
		}
	}
	resp, err := dci.NewSearchResponse(env, dci.Reply{MessageID: newID(), CorrelationID: newID(), SenderID: "crossroads:" + name,
		RegType: reg.Type, RecordType: reg.RecordType, Now: time.Now()}, outs)
	if err != nil {
		return fault.Wrap(err, "build answer")
	}
	body, err := dci.AppendSearchResponse(nil, resp)
	if err != nil {
		return fault.Wrap(err, "encode answer")
	}
	writeRaw(w, http.StatusOK, body)
	return nil
}

func (s *Server) checkSourceToken(r *http.Request, name string) error {
	deny := func(msg string) error {
		return dci.Coded(fault.Unauthorized, dci.ErrUnauthorized, "Authorization", msg)
	}
	token, ok := bearerToken(r)
	if !ok {
		return deny("a hub source token is required")
	}
	token = strings.TrimSpace(token)
	var c oauth.HubClaims // of an oauth.SourceTokenType token
	if v, ok := s.sourceTokens.Load(token); ok {
		c = v.(oauth.HubClaims) // verified before; the audience and expiry are still checked
	} else {
		payload, hdr, err := s.keys.VerifyJWS(token)
		if err != nil || hdr.Type != oauth.SourceTokenType || json.Unmarshal(payload, &c) != nil {
			return deny("the source token is not valid")
		}
		s.sourceTokens.Store(token, c)
	}
	if c.Audience != "source:"+name || time.Now().Unix() > c.Expires {
		return deny("the source token is expired or for another source")
	}
	return nil
}
