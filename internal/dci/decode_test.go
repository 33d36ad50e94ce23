package dci_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// validSearch is a schema-valid sync search with one idtype-value item.
const validSearch = `{
  "signature": "",
  "header": {
    "version": "1.0.0",
    "message_id": "msg-1",
    "message_ts": "2025-03-01T10:00:00Z",
    "action": "search",
    "sender_id": "sp-mis.example.org",
    "receiver_id": "crossroads",
    "total_count": 1,
    "is_msg_encrypted": false
  },
  "message": {
    "transaction_id": "tx-1",
    "search_request": [{
      "reference_id": "ref-1",
      "timestamp": "2025-03-01T10:00:00+01:00",
      "search_criteria": {
        "version": "1.0.0",
        "reg_type": "ns:org:RegistryType:Civil",
        "reg_record_type": "spdci-extensions-dci:Person",
        "query_type": "idtype-value",
        "query": {"type": "UIN", "value": "847951632"},
        "sort": [{"attribute_name": "birth_date", "sort_order": "desc"}],
        "pagination": {"page_size": 10, "page_number": 2}
      },
      "locale": "eng"
    }]
  }
}`

// searchBody returns validSearch changed by edit, which works on the decoded JSON.
func searchBody(t testing.TB, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(validSearch), &m); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func header(m map[string]any) map[string]any  { return m["header"].(map[string]any) }
func message(m map[string]any) map[string]any { return m["message"].(map[string]any) }
func item(m map[string]any, i int) map[string]any {
	return message(m)["search_request"].([]any)[i].(map[string]any)
}
func criteria(m map[string]any, i int) map[string]any {
	return item(m, i)["search_criteria"].(map[string]any)
}

func TestDecodeSearchValid(t *testing.T) {
	env, err := dci.DecodeSearch([]byte(validSearch))
	if err != nil {
		t.Fatalf("DecodeSearch(valid) = %v", err)
	}
	if env.Header.SenderID != "sp-mis.example.org" || env.Header.TotalCount != 1 || env.Message.TransactionID != "tx-1" {
		t.Errorf("header/message = %+v / %+v", env.Header, env.Message)
	}
	it := env.Message.SearchRequest[0]
	if it.Err != nil {
		t.Fatalf("item rejected: %v", it.Err)
	}
	want := &query.Query{
		Kind: query.KindID, IDType: "UIN", IDValue: "847951632",
		Sort: []query.SortKey{{Attr: "birth_date", Desc: true}}, Page: 2, PageSize: 10,
	}
	if !reflect.DeepEqual(it.Query, want) {
		t.Errorf("Query = %+v; want %+v", it.Query, want)
	}
	if it.Query.Offset() != 10 {
		t.Errorf("Offset = %d; want 10", it.Query.Offset())
	}
	if !json.Valid(env.RawHeader) || !json.Valid(env.RawMessage) {
		t.Error("raw parts not kept")
	}
}

func TestDecodeSearchEnvelopeErrors(t *testing.T) {
	long := strings.Repeat("x", 100)
	max := strings.Repeat("x", 99)
	tests := []struct {
		name string
		edit func(m map[string]any)
		want string // "" = accepted
	}{
		{"total_count as string", func(m map[string]any) { header(m)["total_count"] = "1" }, ""},
		{"total_count as 1.0", func(m map[string]any) { header(m)["total_count"] = 1.0 }, ""},
		{"total_count fraction", func(m map[string]any) { header(m)["total_count"] = 1.5 }, dci.ErrRequestBad},
		{"total_count not numeric", func(m map[string]any) { header(m)["total_count"] = "one" }, dci.ErrRequestBad},
		{"total_count empty string", func(m map[string]any) { header(m)["total_count"] = "" }, dci.ErrRequestBad},
		{"total_count negative", func(m map[string]any) { header(m)["total_count"] = -1 }, dci.ErrRequestBad},
		{"total_count missing", func(m map[string]any) { delete(header(m), "total_count") }, dci.ErrRequestBad},
		{"message_ts without zone", func(m map[string]any) { header(m)["message_ts"] = "2024-01-01T10:00:00" }, dci.ErrRequestBad},
		{"message_ts date only", func(m map[string]any) { header(m)["message_ts"] = "2024-01-01" }, dci.ErrRequestBad},
		{"message_ts offset", func(m map[string]any) { header(m)["message_ts"] = "2024-01-01T10:00:00.5-04:00" }, ""},
		{"message_ts missing", func(m map[string]any) { delete(header(m), "message_ts") }, dci.ErrRequestBad},
		{"version 2", func(m map[string]any) { header(m)["version"] = "2.0.0" }, dci.ErrVersion},
		{"version absent", func(m map[string]any) { delete(header(m), "version") }, ""},
		{"action subscribe", func(m map[string]any) { header(m)["action"] = "subscribe" }, dci.ErrRequestBad},
		{"message_id 99", func(m map[string]any) { header(m)["message_id"] = max }, ""},
		{"message_id 100", func(m map[string]any) { header(m)["message_id"] = long }, dci.ErrRequestBad},
		{"message_id number", func(m map[string]any) { header(m)["message_id"] = 7 }, dci.ErrRequestBad},
		{"sender_id number", func(m map[string]any) { header(m)["sender_id"] = 42 }, dci.ErrSenderID},
		{"sender_id empty", func(m map[string]any) { header(m)["sender_id"] = "" }, dci.ErrSenderID},
		{"sender_id 100", func(m map[string]any) { header(m)["sender_id"] = long }, dci.ErrSenderID},
		{"receiver_id 100", func(m map[string]any) { header(m)["receiver_id"] = long }, dci.ErrReceiverID},
		{"sender_uri empty", func(m map[string]any) { header(m)["sender_uri"] = "" }, ""},
		{"sender_uri url", func(m map[string]any) { header(m)["sender_uri"] = "https://sp.example.org/on-search" }, ""},
		{"sender_uri relative", func(m map[string]any) { header(m)["sender_uri"] = "callback/on-search" }, dci.ErrSenderURI},
		{"meta empty string", func(m map[string]any) { header(m)["meta"] = "" }, ""},
		{"encrypted", func(m map[string]any) { header(m)["is_msg_encrypted"] = true }, dci.ErrEncryption},
		{"transaction_id empty", func(m map[string]any) { message(m)["transaction_id"] = "" }, dci.ErrRequestBad},
		{"transaction_id 100", func(m map[string]any) { message(m)["transaction_id"] = long }, dci.ErrRequestBad},
		{"search_request empty", func(m map[string]any) { message(m)["search_request"] = []any{} }, dci.ErrRequestBad},
		{"search_request object", func(m map[string]any) { message(m)["search_request"] = item(m, 0) }, dci.ErrRequestBad},
		{"search_request too long", func(m map[string]any) {
			list := make([]any, dci.MaxSearchItems+1)
			for i := range list {
				list[i] = item(m, 0)
			}
			message(m)["search_request"] = list
		}, dci.ErrRequestBad},
		{"header missing", func(m map[string]any) { delete(m, "header") }, dci.ErrRequestBad},
		{"message array", func(m map[string]any) { m["message"] = []any{} }, dci.ErrRequestBad},
		{"signature number", func(m map[string]any) { m["signature"] = 5 }, dci.ErrRequestBad},
		{"unknown top-level field", func(m map[string]any) { m["trace"] = map[string]any{"id": 1} }, ""},
		{"unknown header field", func(m map[string]any) { header(m)["priority"] = "high" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dci.DecodeSearch(searchBody(t, tt.edit))
			got := ""
			if err != nil {
				got = dci.CodeOf(err)
				if fault.KindOf(err) != fault.Invalid {
					t.Errorf("kind = %v; want invalid", fault.KindOf(err))
				}
			}
			if got != tt.want {
				t.Errorf("DecodeSearch(%s) = %v (%q); want %q", tt.name, err, got, tt.want)
			}
		})
	}
}

func TestDecodeSearchNotJSON(t *testing.T) {
	for _, body := range []string{"", "null", "[]", `{"header":{}`, `{"header":{},"message":{}} x`, "\xff"} {
		if _, err := dci.DecodeSearch([]byte(body)); dci.CodeOf(err) != dci.ErrRequestBad {
			t.Errorf("DecodeSearch(%q) = %v; want %s", body, err, dci.ErrRequestBad)
		}
	}
}

func TestDecodeSearchItemErrors(t *testing.T) {
	long := strings.Repeat("r", 100)
	tests := []struct {
		name string
		edit func(m map[string]any)
		want string // "" = accepted
	}{
		{"reference_id 100", func(m map[string]any) { item(m, 0)["reference_id"] = long }, dci.RjctReferenceIDInvalid},
		{"reference_id empty", func(m map[string]any) { item(m, 0)["reference_id"] = "" }, dci.RjctReferenceIDInvalid},
		{"reference_id number", func(m map[string]any) { item(m, 0)["reference_id"] = 12 }, dci.RjctReferenceIDInvalid},
		{"timestamp without zone", func(m map[string]any) { item(m, 0)["timestamp"] = "2024-01-01T10:00:00" }, dci.RjctTimestampInvalid},
		{"timestamp missing", func(m map[string]any) { delete(item(m, 0), "timestamp") }, dci.RjctTimestampInvalid},
		{"locale en", func(m map[string]any) { item(m, 0)["locale"] = "en" }, dci.RjctCriteriaInvalid},
		{"locale ENG", func(m map[string]any) { item(m, 0)["locale"] = "ENG" }, dci.RjctCriteriaInvalid},
		{"locale EN/GB", func(m map[string]any) { item(m, 0)["locale"] = "EN/GB" }, dci.RjctCriteriaInvalid},
		{"locale empty", func(m map[string]any) { item(m, 0)["locale"] = "" }, ""},
		{"locale fra", func(m map[string]any) { item(m, 0)["locale"] = "fra" }, ""},
		{"criteria missing", func(m map[string]any) { delete(item(m, 0), "search_criteria") }, dci.RjctCriteriaInvalid},
		{"item not object", func(m map[string]any) { message(m)["search_request"].([]any)[0] = "x" }, dci.RjctCriteriaInvalid},
		{"page_size 0", func(m map[string]any) { criteria(m, 0)["pagination"] = map[string]any{"page_size": 0} }, dci.RjctPaginationInvalid},
		{"page_size missing", func(m map[string]any) { criteria(m, 0)["pagination"] = map[string]any{"page_number": 1} }, dci.RjctPaginationInvalid},
		{"page_size fraction", func(m map[string]any) { criteria(m, 0)["pagination"] = map[string]any{"page_size": 2.5} }, dci.RjctPaginationInvalid},
		{"page_number 0", func(m map[string]any) {
			criteria(m, 0)["pagination"] = map[string]any{"page_size": 5, "page_number": 0}
		}, dci.RjctPaginationInvalid},
		{"page_size string", func(m map[string]any) { criteria(m, 0)["pagination"] = map[string]any{"page_size": "5"} }, ""},
		{"pagination string", func(m map[string]any) { criteria(m, 0)["pagination"] = "all" }, dci.RjctPaginationInvalid},
		{"pagination empty string", func(m map[string]any) { criteria(m, 0)["pagination"] = "" }, ""},
		{"sort order up", func(m map[string]any) {
			criteria(m, 0)["sort"] = []any{map[string]any{"attribute_name": "x", "sort_order": "up"}}
		}, dci.RjctSortInvalid},
		{"sort attribute injection", func(m map[string]any) {
			criteria(m, 0)["sort"] = []any{map[string]any{"attribute_name": "x; DROP TABLE"}}
		}, dci.RjctSortInvalid},
		{"query_type unknown", func(m map[string]any) { criteria(m, 0)["query_type"] = "sql" }, dci.RjctCriteriaInvalid},
		{"query_type graphql", func(m map[string]any) { criteria(m, 0)["query_type"] = "graphql" }, dci.RjctCriteriaInvalid},
		{"query_type missing", func(m map[string]any) { delete(criteria(m, 0), "query_type") }, dci.RjctCriteriaInvalid},
		{"query missing", func(m map[string]any) { delete(criteria(m, 0), "query") }, dci.RjctCriteriaInvalid},
		{"idtype value number", func(m map[string]any) { criteria(m, 0)["query"] = map[string]any{"type": "UIN", "value": 847951632} }, ""},
		{"idtype value object", func(m map[string]any) {
			criteria(m, 0)["query"] = map[string]any{"type": "UIN", "value": map[string]any{}}
		}, dci.RjctCriteriaInvalid},
		{"idtype value bool", func(m map[string]any) { criteria(m, 0)["query"] = map[string]any{"type": "UIN", "value": true} }, dci.RjctCriteriaInvalid},
		{"idtype without type", func(m map[string]any) { criteria(m, 0)["query"] = map[string]any{"value": "1"} }, dci.RjctCriteriaInvalid},
		{"idtype list", func(m map[string]any) { criteria(m, 0)["query"] = []any{} }, dci.RjctCriteriaInvalid},
		{"reg_event_type instead", func(m map[string]any) {
			delete(criteria(m, 0), "reg_record_type")
			criteria(m, 0)["reg_event_type"] = "REGISTER"
		}, ""},
		{"reg_type number", func(m map[string]any) { criteria(m, 0)["reg_type"] = 1 }, dci.RjctCriteriaInvalid},
		{"consent empty string", func(m map[string]any) { criteria(m, 0)["consent"] = "" }, ""},
		{"predicate list", func(m map[string]any) {
			criteria(m, 0)["query_type"] = "predicate"
			criteria(m, 0)["query"] = []any{map[string]any{"expression1": map[string]any{"attribute_name": "sex", "operator": "eq", "attribute_value": "female"}}}
		}, ""},
		{"predicate list as expression", func(m map[string]any) {
			criteria(m, 0)["query_type"] = "expression"
			criteria(m, 0)["query"] = []any{map[string]any{"expression1": map[string]any{"attribute_name": "sex", "operator": "eq", "attribute_value": "female"}}}
		}, ""},
		{"predicate operator gte", func(m map[string]any) {
			criteria(m, 0)["query_type"] = "predicate"
			criteria(m, 0)["query"] = []any{map[string]any{"expression1": map[string]any{"attribute_name": "age", "operator": "gte", "attribute_value": 5}}}
		}, dci.RjctCriteriaInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := dci.DecodeSearch(searchBody(t, tt.edit))
			if err != nil {
				t.Fatalf("DecodeSearch(%s) = %v; want the message accepted", tt.name, err)
			}
			it := env.Message.SearchRequest[0]
			got := dci.ReasonOf(it.Err)
			if (it.Err != nil) != (tt.want != "") || got != tt.want {
				t.Errorf("item of %s: Err = %v (%q); want %q", tt.name, it.Err, got, tt.want)
			}
			if (it.Query == nil) == (it.Err == nil) {
				t.Errorf("item of %s: Query = %v with Err = %v; want exactly one", tt.name, it.Query, it.Err)
			}
		})
	}
}

func TestDecodeSearchPagination(t *testing.T) {
	tests := []struct {
		pagination any
		page, size int
	}{
		{nil, 1, dci.DefaultPageSize},
		{map[string]any{"page_size": 25}, 1, 25},
		{map[string]any{"page_size": "25", "page_number": "3"}, 3, 25},
		{map[string]any{"page_size": 5000}, 1, dci.MaxPageSize},
	}
	for _, tt := range tests {
		env, err := dci.DecodeSearch(searchBody(t, func(m map[string]any) {
			if tt.pagination == nil {
				delete(criteria(m, 0), "pagination")
			} else {
				criteria(m, 0)["pagination"] = tt.pagination
			}
		}))
		if err != nil {
			t.Fatal(err)
		}
		q := env.Message.SearchRequest[0].Query
		if q == nil || q.Page != tt.page || q.PageSize != tt.size {
			t.Errorf("pagination %v: query %+v; want page %d size %d", tt.pagination, q, tt.page, tt.size)
		}
	}
}

func TestDecodeSearchDuplicateReferences(t *testing.T) {
	body := searchBody(t, func(m map[string]any) {
		first := item(m, 0)
		var list []any
		for _, ref := range []string{"a", "b", "a", ""} {
			c := map[string]any{}
			for k, v := range first {
				c[k] = v
			}
			c["reference_id"] = ref
			list = append(list, c)
		}
		message(m)["search_request"] = list
	})
	env, err := dci.DecodeSearch(body)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{dci.RjctReferenceIDDuplicate, "", dci.RjctReferenceIDDuplicate, dci.RjctReferenceIDInvalid}
	for i, it := range env.Message.SearchRequest {
		if got := dci.ReasonOf(it.Err); got != want[i] {
			t.Errorf("item %d (%q): reason %q; want %q", i, it.ReferenceID, got, want[i])
		}
	}
}

func TestDecodeSearchOneBadItemLeavesOthers(t *testing.T) {
	body := searchBody(t, func(m map[string]any) {
		good := item(m, 0)
		bad := map[string]any{}
		for k, v := range good {
			bad[k] = v
		}
		bad["reference_id"] = "ref-2"
		bad["search_criteria"] = map[string]any{"query_type": "idtype-value", "query": map[string]any{"type": "UIN", "value": "1"}, "pagination": map[string]any{"page_size": 0}}
		message(m)["search_request"] = []any{good, bad}
	})
	env, err := dci.DecodeSearch(body)
	if err != nil {
		t.Fatal(err)
	}
	items := env.Message.SearchRequest
	if items[0].Err != nil || items[0].Query == nil {
		t.Errorf("good item: %v", items[0].Err)
	}
	if dci.ReasonOf(items[1].Err) != dci.RjctPaginationInvalid {
		t.Errorf("bad item: %v; want %s", items[1].Err, dci.RjctPaginationInvalid)
	}
	if !strings.Contains(dci.SafeMessage(items[1].Err), "search_request[1].search_criteria.pagination") {
		t.Errorf("message %q does not name the field", dci.SafeMessage(items[1].Err))
	}
}
