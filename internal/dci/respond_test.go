package dci_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/dci/dcitest"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// specs are the registries whose search the hub serves; their search shapes are the same.
var specs = []string{
	"crvs_api_v1.0.0.yaml", "social_api_v1.0.0.yaml", "ibr_api_v1.0.0.yaml",
	"dr_api_v1.0.0.yaml", "fr_api_v1.0.0.yaml",
}

var now = time.Date(2025, 3, 1, 10, 0, 1, 500e6, time.UTC)

var reply = dci.Reply{
	MessageID: "msg-answer-1", CorrelationID: "corr-1", SenderID: "crossroads",
	RegType: "ns:org:RegistryType:Civil", RecordType: "spdci-extensions-dci:Person", Now: now,
}

var record = map[string]any{
	"@type":      "CRVS_Person",
	"identifier": []any{map[string]any{"identifier_type": "UIN", "identifier_value": "847951632"}},
	"name":       map[string]any{"surname": "Phumchai", "given_name": "Sudarat"},
	"birth_date": "1995-09-21",
}

// threeItems is a search whose second item is rejected by decoding (page_size 0).
func threeItems(t *testing.T) *dci.Envelope[dci.SearchRequest] {
	body := searchBody(t, func(m map[string]any) {
		first := item(m, 0)
		var list []any
		for i := range 3 {
			c := map[string]any{}
			for k, v := range first {
				c[k] = v
			}
			c["reference_id"] = fmt.Sprintf("ref-%d", i+1)
			list = append(list, c)
		}
		list[1].(map[string]any)["search_criteria"] = map[string]any{
			"query_type": "idtype-value", "query": map[string]any{"type": "UIN", "value": "1"},
			"pagination": map[string]any{"page_size": 0},
		}
		message(m)["search_request"] = list
		header(m)["total_count"] = 3
	})
	env, err := dci.DecodeSearch(body)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestSearchResponseValidatesAgainstSpecs(t *testing.T) {
	tests := []struct {
		name     string
		outcomes []dci.Outcome
		status   []string
	}{
		{"records", []dci.Outcome{{Records: []any{record}, Total: 11}, {}, {Records: []any{record, record}, Total: 2}},
			[]string{"succ", "rjct", "succ"}},
		{"empty", []dci.Outcome{{}, {}, {Records: []any{}}}, []string{"succ", "rjct", "succ"}},
		{"rejected by the exchange", []dci.Outcome{
			{Err: dci.Coded(fault.Invalid, dci.RjctTooManyRecords, "", "narrow the search")},
			{},
			{Err: fault.Unavailablef(errors.New("dial tcp: refused"), "the civil registry is unavailable")},
		}, []string{"rjct", "rjct", "rjct"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := dci.NewSearchResponse(threeItems(t), reply, tt.outcomes)
			if err != nil {
				t.Fatal(err)
			}
			for i, it := range resp.Message.SearchResponse {
				if it.Status != tt.status[i] || it.ReferenceID != fmt.Sprintf("ref-%d", i+1) {
					t.Errorf("item %d: status %s ref %s; want %s ref-%d", i, it.Status, it.ReferenceID, tt.status[i], i+1)
				}
			}
			body, err := json.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(body), "dial tcp") {
				t.Errorf("answer leaks a cause: %s", body)
			}
			for _, spec := range specs {
				dcitest.ValidateResponse(t, spec, "/registry/sync/search", 200, body)
				dcitest.ValidateRequest(t, spec, "/registry/on-search", body) // the same message as an async callback
			}
		})
	}
}

func TestSearchResponseContent(t *testing.T) {
	resp, err := dci.NewSearchResponse(threeItems(t), reply, []dci.Outcome{{Records: []any{record}, Total: 11}, {}, {}})
	if err != nil {
		t.Fatal(err)
	}
	h := resp.Header
	if h.Action != "on-search" || h.Status != "succ" || h.TotalCount != 3 || h.CompletedCount != 3 ||
		h.ReceiverID != "sp-mis.example.org" || h.SenderID != "crossroads" || h.MessageTS != "2025-03-01T10:00:01.500Z" {
		t.Errorf("header = %+v", h)
	}
	m := resp.Message
	if m.TransactionID != "tx-1" || m.CorrelationID != "corr-1" {
		t.Errorf("ids = %s, %s", m.TransactionID, m.CorrelationID)
	}
	ok := m.SearchResponse[0]
	if ok.Data.RegRecordType != "spdci-extensions-dci:Person" || ok.Data.RegType != "ns:org:RegistryType:Civil" ||
		*ok.Pagination != (dci.PageInfo{PageSize: 10, PageNumber: 2, TotalCount: 11}) || ok.Locale != "eng" {
		t.Errorf("succ item = %+v %+v", ok.Data, ok.Pagination)
	}
	bad := m.SearchResponse[1]
	if bad.StatusReasonCode != dci.RjctPaginationInvalid || bad.Data != nil || !strings.Contains(bad.StatusReasonMessage, "page_size") {
		t.Errorf("rjct item = %+v", bad)
	}
	empty, _ := json.Marshal(m.SearchResponse[2].Data)
	if !strings.Contains(string(empty), `"reg_records":[]`) {
		t.Errorf("empty data = %s; want reg_records []", empty)
	}
	if _, err := dci.NewSearchResponse(threeItems(t), reply, nil); err == nil {
		t.Error("NewSearchResponse with missing outcomes succeeded")
	}
}

func TestSearchResponseEchoesEventType(t *testing.T) {
	env, err := dci.DecodeSearch(searchBody(t, func(m map[string]any) {
		delete(criteria(m, 0), "reg_record_type")
		criteria(m, 0)["reg_event_type"] = "REGISTER"
	}))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := dci.NewSearchResponse(env, reply, []dci.Outcome{{}})
	if err != nil {
		t.Fatal(err)
	}
	d := resp.Message.SearchResponse[0].Data
	if d.RegEventType != "REGISTER" || d.RegRecordType != reply.RecordType {
		t.Errorf("data = %+v", d)
	}
}

func TestAckAndHTTPErrorsValidate(t *testing.T) {
	decodeErr := func() error {
		_, err := dci.DecodeSearch(searchBody(t, func(m map[string]any) { header(m)["version"] = "9" }))
		return err
	}()
	bodies := map[string]any{
		"ack":       dci.NewAck("corr-1", now),
		"err ack":   dci.NewErrorAck(decodeErr, "corr-2", now),
		"long err":  dci.NewErrorAck(fault.Invalidf("x", "%s", strings.Repeat("é", 2000)), "corr-3", now),
		"internal":  dci.NewErrorAck(errors.New("secret"), "corr-4", now),
		"http 401":  dci.NewHTTPErrors(fault.Unauthorizedf("bad bearer token")),
		"http rjct": dci.NewHTTPErrors(dci.Coded(fault.Invalid, dci.RjctSortInvalid, "sort", "bad")),
	}
	for name, v := range bodies {
		body, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(body), "secret") {
			t.Errorf("%s leaks its cause: %s", name, body)
		}
		for _, spec := range specs {
			if strings.HasPrefix(name, "http") {
				dcitest.ValidateResponse(t, spec, "/registry/sync/search", 401, body)
				dcitest.ValidateResponse(t, spec, "/registry/sync/search", 400, body)
				dcitest.ValidateResponse(t, spec, "/registry/search", 403, body)
				dcitest.ValidateResponse(t, spec, "/registry/search", 415, body)
			} else {
				dcitest.ValidateResponse(t, spec, "/registry/search", 202, body) // the default response
			}
		}
	}
	if got := dci.NewErrorAck(decodeErr, "c", now).Message; got.AckStatus != "ERR" || got.Error.Code != dci.ErrVersion {
		t.Errorf("error ack = %+v", got)
	}
	if got := dci.NewHTTPErrors(dci.Coded(fault.Invalid, dci.RjctSortInvalid, "sort", "bad")).Errors[0].Code; got != dci.ErrRequestBad {
		t.Errorf("HTTP error for a rjct reason has code %s; want %s", got, dci.ErrRequestBad)
	}
}

func TestErrorCode(t *testing.T) {
	tests := []struct {
		kind fault.Kind
		want string
	}{
		{fault.Invalid, "err.request.bad"},
		{fault.Unauthorized, "err.request.unauthorized"},
		{fault.Forbidden, "err.request.forbidden"},
		{fault.NotFound, "err.request.not_found"},
		{fault.Conflict, "err.request.bad"},
		{fault.TooMany, "err.request.too_many_requests"},
		{fault.Unavailable, "err.service.unavailable"},
		{fault.Internal, "err.service.unavailable"},
	}
	for _, tt := range tests {
		if got := dci.ErrorCode(tt.kind); got != tt.want {
			t.Errorf("ErrorCode(%v) = %s; want %s", tt.kind, got, tt.want)
		}
	}
	timeout := fmt.Errorf("ask registry: %w", context.DeadlineExceeded)
	if got := dci.CodeOf(timeout); got != "err.request.timeout" {
		t.Errorf("CodeOf(deadline) = %s; want err.request.timeout", got)
	}
	if got := dci.CodeOf(fault.In("header", dci.Coded(fault.Invalid, dci.ErrSenderID, "sender_id", "x"))); got != dci.ErrSenderID {
		t.Errorf("CodeOf(wrapped coded) = %s; want %s", got, dci.ErrSenderID)
	}
	if got := dci.SafeMessage(fault.Wrap(errors.New("pq: password"), "load")); got != "internal error" {
		t.Errorf("SafeMessage(internal) = %q", got)
	}
}
