package dci

import (
	"encoding/json"

	"github.com/crossroads-hub/crossroads/internal/query"
)

// Actions of the search exchange.
const (
	ActionSearch   = "search"
	ActionOnSearch = "on-search"
)

// Query types (QueryType).
const (
	QueryIDTypeValue = "idtype-value"
	QueryPredicate   = "predicate"
	QueryExpression  = "expression"
)

// SearchRequest is the message of search and sync/search. The shape is the same in the
// CRVS, SR, IBR, DR and FR documents.
type SearchRequest struct {
	TransactionID string              `json:"transaction_id"`
	SearchRequest []SearchRequestItem `json:"search_request"`
}

// SearchRequestItem is one search of a batch. DecodeSearch sets either Query (the item is
// to be answered) or Err (the item is to be rejected with ReasonOf(Err)).
type SearchRequestItem struct {
	ReferenceID    string         `json:"reference_id"`
	Timestamp      string         `json:"timestamp"`
	SearchCriteria SearchCriteria `json:"search_criteria"`
	Locale         string         `json:"locale,omitempty"`

	Query *query.Query `json:"-"`
	Err   error        `json:"-"`
	// Asked is, for an item rejected (Err), its query as far as it could be read, for the
	// audit record to name whom it asked about; nil when it could not be read.
	Asked *query.Query `json:"-"`
}

// SearchCriteria is what an item asks for. The parts whose shape varies between releases
// and implementations stay raw; DecodeSearch reads them into the item's Query.
type SearchCriteria struct {
	Version        string          `json:"version,omitempty"`
	RegType        string          `json:"reg_type,omitempty"`
	RegEventType   string          `json:"reg_event_type,omitempty"`  // older releases
	RegRecordType  string          `json:"reg_record_type,omitempty"` // newer releases
	QueryType      string          `json:"query_type"`
	Query          json.RawMessage `json:"query"`
	Sort           json.RawMessage `json:"sort,omitempty"`
	Pagination     json.RawMessage `json:"pagination,omitempty"`
	Consent        json.RawMessage `json:"consent,omitempty"`
	Authorize      json.RawMessage `json:"authorize,omitempty"`
	ResponseEntity string          `json:"response_entity,omitempty"` // SR: Group|Member
}

// SearchResponse is the message of on-search and of the sync/search answer.
type SearchResponse struct {
	TransactionID  string               `json:"transaction_id"`
	CorrelationID  string               `json:"correlation_id"`
	SearchResponse []SearchResponseItem `json:"search_response"`
}

// SearchResponseItem answers one SearchRequestItem, under the same reference_id.
type SearchResponseItem struct {
	ReferenceID         string      `json:"reference_id"`
	Timestamp           string      `json:"timestamp"`
	Status              string      `json:"status"`
	StatusReasonCode    string      `json:"status_reason_code,omitempty"`
	StatusReasonMessage string      `json:"status_reason_message,omitempty"`
	Data                *SearchData `json:"data,omitempty"`
	Pagination          *PageInfo   `json:"pagination,omitempty"`
	Locale              string      `json:"locale,omitempty"`
}

// SearchData carries the records found. RegRecordType is always written, since older
// releases require it.
type SearchData struct {
	Version       string `json:"version"`
	RegType       string `json:"reg_type,omitempty"`
	RegEventType  string `json:"reg_event_type,omitempty"`
	RegRecordType string `json:"reg_record_type"`
	RegRecords    []any  `json:"reg_records"`
}

// PageInfo describes the page of an answer.
type PageInfo struct {
	PageSize   int `json:"page_size"`
	PageNumber int `json:"page_number"`
	TotalCount int `json:"total_count"`
}
