package hub_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/dci/dcitest"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// statusOf is a transaction status request of txnType naming value by attrType.
func statusOf(messageID, senderURI, txnType, attrType, value string) string {
	ts := time.Now().UTC().Format(time.RFC3339)
	return fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":%q,"message_ts":%q,"action":"txn-status","sender_id":"test","sender_uri":%q,"total_count":1},`+
		`"message":{"transaction_id":%q,"txnstatus_request":{"reference_id":"ref-%s","txn_type":%q,"attribute_type":%q,"attribute_value":%q,"locale":"eng"}}}`,
		run+messageID, ts, senderURI, "ts-"+run+messageID, messageID, txnType, attrType, value)
}

// unknownStatus is what a status answer about an unknown transaction must carry.
type unknownStatus struct {
	Header struct {
		Status     string `json:"status"`
		ReasonCode string `json:"status_reason_code"`
	} `json:"header"`
	Message struct {
		TransactionID string `json:"transaction_id"`
		CorrelationID string `json:"correlation_id"`
		Response      struct {
			TxnType   string          `json:"txn_type"`
			TxnStatus json.RawMessage `json:"txn_status"`
		} `json:"txnstatus_response"`
	} `json:"message"`
}

// check fails t unless u answers the status request of txnType with transaction id tx
// (and, when corr is set, correlation id corr) as one about an unknown transaction.
func (u unknownStatus) check(t *testing.T, what, txnType, tx, corr string, body []byte) {
	t.Helper()
	if u.Header.Status != dci.StatusRejected || u.Header.ReasonCode == "" {
		t.Errorf("%s: header status %q, reason %q; want rjct with a reason code: %s", what, u.Header.Status, u.Header.ReasonCode, body)
	}
	if u.Message.TransactionID != tx || u.Message.CorrelationID == "" || (corr != "" && u.Message.CorrelationID != corr) {
		t.Errorf("%s: message transaction_id %q, correlation_id %q; want %q and %q: %s", what, u.Message.TransactionID, u.Message.CorrelationID, tx, corr, body)
	}
	if u.Message.Response.TxnType != txnType {
		t.Errorf("%s: txn_type %q; want %s", what, u.Message.Response.TxnType, txnType)
	}
	var items struct {
		Status     string `json:"status"`
		ReasonCode string `json:"status_reason_code"`
		Search     []struct {
			Status     string `json:"status"`
			ReasonCode string `json:"status_reason_code"`
		} `json:"search_response"`
		Subscribe []struct {
			Status     string `json:"status"`
			ReasonCode string `json:"status_reason_code"`
		} `json:"subscribe_response"`
	}
	_ = json.Unmarshal(u.Message.Response.TxnStatus, &items)
	status, reason := items.Status, items.ReasonCode // unsubscribe: the answer itself
	for _, it := range append(items.Search, items.Subscribe...) {
		status, reason = it.Status, it.ReasonCode
	}
	if status != dci.StatusRejected || reason == "" {
		t.Errorf("%s: txn_status item %q reason %q; want rjct with a reason code: %s", what, status, reason, body)
	}
}

// TestUnknownTransactionStatus: a status request about a transaction the caller does not
// have is answered, sync and by callback, with a message the caller can tie to its
// request (its transaction_id, the ACK's correlation_id) whose item is rejected with a
// reason code, and a header with a reason code; valid against every document that has
// the endpoint.
func TestUnknownTransactionStatus(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	rc := &receiver{arrived: make(chan struct{}, 8)}
	partner := httptest.NewServer(rc)
	defer partner.Close()
	inst := synth.HealthInsurer1
	r.setCallbacks(t, inst, []string{partner.URL + "/"})
	token := r.token(t, inst)
	for _, txnType := range []string{"search", "subscribe", "unsubscribe"} {
		// DR has no transaction status; the SR and IBR documents know the status of
		// searches only (txn_type search, subscibe or receipt; txn_status a search answer).
		specs := []string{"crvs_api_v1.0.0.yaml", "fr_api_v1.0.0.yaml"}
		if txnType == "search" {
			specs = append(specs, "social_api_v1.0.0.yaml", "ibr_api_v1.0.0.yaml")
		}
		for _, attr := range []string{dci.AttrTransactionID, dci.AttrCorrelationID} {
			id := "u-" + txnType + "-" + attr
			status, body := post(t, r.url+"/dci/crvs/registry/sync/txn/status", token, statusOf(id, "", txnType, attr, "nope-"+run))
			var u unknownStatus
			if err := json.Unmarshal(body, &u); status != http.StatusOK || err != nil {
				t.Fatalf("sync status of an unknown %s: %d %s", txnType, status, body)
			}
			u.check(t, "sync "+id, txnType, "ts-"+run+id, "", body)
			for _, spec := range specs {
				dcitest.ValidateResponse(t, dcitest.Spec(t, spec), "/registry/sync/txn/status", status, body)
			}

			id = "a-" + txnType + "-" + attr
			status, ack := post(t, r.url+"/dci/crvs/registry/txn/status", token, statusOf(id, partner.URL+"/txn/on-status", txnType, attr, "nope-"+run))
			ackStatus, corr := correlationOf(t, ack)
			if status != http.StatusAccepted || ackStatus != dci.AckOK {
				t.Fatalf("async status of an unknown %s: %d %s", txnType, status, ack)
			}
			cb := rc.next(t)
			u = unknownStatus{}
			if err := json.Unmarshal(cb, &u); err != nil {
				t.Fatal(err)
			}
			u.check(t, "txn/on-status "+id, txnType, "ts-"+run+id, corr, cb)
			for _, spec := range specs {
				dcitest.ValidateRequest(t, dcitest.Spec(t, spec), "/registry/txn/on-status", cb)
			}
		}
	}
}
