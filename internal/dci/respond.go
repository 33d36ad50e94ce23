package dci

import (
	"fmt"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Reply is what an answer needs besides the results: who answers, under which ids, when.
type Reply struct {
	MessageID     string    // a fresh id for the answer
	CorrelationID string    // the hub's id of the transaction (echoed from the ACK for callbacks)
	SenderID      string    // the hub's id towards this partner
	RegType       string    // data.reg_type, when the request gave none ("ns:org:RegistryType:Civil")
	RecordType    string    // data.reg_record_type, when the request gave none ("spdci-extensions-dci:Person")
	Now           time.Time // the answer's message_ts and item timestamps
}

// Outcome is the exchange's result for one search item.
type Outcome struct {
	Records []any // the page of records, each a JSON object in the registry's record shape
	Total   int   // matching records on all pages
	Err     error // when set, the item is rejected (status rjct) with ReasonOf(Err) and SafeMessage(Err)
	// RecordType is data.reg_record_type as the source gave it (a remote registry's
	// answer), kept before the request's and Reply's; "" for none.
	RecordType string
}

// NewSearchResponse answers a decoded search: one item per request item, in order, under
// the same reference_id. Items that decoding rejected are rejected whatever their outcome;
// the others are succ with their page of records, or rjct when their Outcome has an Err.
//
// The header is a MsgCallbackHeader with action on-search and status succ: the message was
// processed, and each item carries its own status (header rjct is for header problems, which
// DecodeSearch already refuses). total_count and completed_count both count the items, since
// rejected items are complete too.
func NewSearchResponse(req *Envelope[SearchRequest], r Reply, out []Outcome) (*Callback[SearchResponse], error) {
	items := req.Message.SearchRequest
	if len(out) != len(items) {
		return nil, fault.Wrap(fmt.Errorf("%d outcomes for %d searches", len(out), len(items)), "build search response")
	}
	if !validID(r.MessageID) || !validID(r.CorrelationID) {
		return nil, fault.Wrap(fmt.Errorf("message_id and correlation_id must be 1 to %d characters", MaxID), "build search response")
	}
	ts := Timestamp(r.Now)
	resp := SearchResponse{
		TransactionID:  req.Message.TransactionID,
		CorrelationID:  r.CorrelationID,
		SearchResponse: make([]SearchResponseItem, len(items)),
	}
	for i := range items {
		resp.SearchResponse[i] = answerItem(&items[i], out[i], r, ts)
	}
	return &Callback[SearchResponse]{
		Header: CallbackHeader{
			Version:        Version,
			MessageID:      r.MessageID,
			MessageTS:      ts,
			Action:         ActionOnSearch,
			Status:         StatusSuccess,
			TotalCount:     Count(len(items)),
			CompletedCount: Count(len(items)),
			SenderID:       r.SenderID,
			ReceiverID:     req.Header.SenderID,
		},
		Message: resp,
	}, nil
}

func answerItem(it *SearchRequestItem, o Outcome, r Reply, ts string) SearchResponseItem {
	a := SearchResponseItem{ReferenceID: it.ReferenceID, Timestamp: ts, Locale: it.Locale}
	if !validLocale(a.Locale) {
		a.Locale = ""
	}
	err := it.Err
	if err == nil && it.Query == nil {
		err = reject(RjctCriteriaInvalid, "search_criteria", "was not decoded")
	}
	if err == nil {
		err = o.Err
	}
	if err != nil {
		a.Status = StatusRejected
		a.StatusReasonCode = ReasonOf(err)
		a.StatusReasonMessage = SafeMessage(err)
		return a
	}
	records := o.Records
	if records == nil {
		records = []any{} // the spec requires the array, even empty
	}
	c := it.SearchCriteria
	a.Status = StatusSuccess
	a.Data = &SearchData{
		Version:       Version,
		RegType:       firstOf(c.RegType, r.RegType),
		RegEventType:  c.RegEventType,
		RegRecordType: firstOf(o.RecordType, firstOf(c.RegRecordType, r.RecordType)),
		RegRecords:    records,
	}
	a.Pagination = &PageInfo{PageSize: it.Query.PageSize, PageNumber: it.Query.Page, TotalCount: max(o.Total, 0)}
	return a
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
