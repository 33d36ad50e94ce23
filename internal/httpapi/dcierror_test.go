package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// TestDCIAdapter: the one adapter of the DCI handlers maps each kind to its status and
// DCI code, answers an acked error as ACK ERR under its correlation id and any other as
// a problem without a message, and logs the cause of internal and unavailable errors
// without showing it.
func TestDCIAdapter(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		status   int
		code     string
		ack      string // the correlation id of an ACK ERR; "" for none
		logged   bool
		hideText string // in the log, never in the answer
	}{
		{"invalid", dci.Coded(fault.Invalid, dci.ErrSenderURI, "header.sender_uri", "is not registered"), 400, dci.ErrSenderURI, "", false, ""},
		{"not found", dci.Coded(fault.NotFound, dci.ErrNotFound, "path", "no registry xx"), 404, dci.ErrNotFound, "", false, ""},
		{"conflict", fault.Conflictf("header.message_id", "seen"), 409, dci.ErrRequestBad, "", false, ""},
		{"too large, acked", acked("c-1", dci.Coded(fault.TooLarge, dci.ErrRequestBad, "body", "the message is larger than 1 MiB")), 413, dci.ErrRequestBad, "c-1", false, ""},
		{"unsupported", fault.Unsupportedf("Content-Type", "must be application/json"), 415, dci.ErrRequestBad, "", false, ""},
		{"forbidden, acked", acked("c-2", fault.Forbiddenf("no")), 403, dci.ErrForbidden, "c-2", false, ""},
		{"unavailable", fault.Unavailablef(errors.New("connection refused"), "the store does not answer"), 503, dci.ErrServiceUnavailable, "", true, "connection refused"},
		{"internal, acked", acked("c-3", fault.Wrap(errors.New("disk full"), "store the transaction")), 500, dci.ErrServiceUnavailable, "c-3", true, "disk full"},
	}
	for _, tt := range tests {
		var logs bytes.Buffer
		s := &Server{log: slog.New(slog.NewJSONHandler(&logs, nil))}
		w := httptest.NewRecorder()
		s.dciAdapt(func(http.ResponseWriter, *http.Request) error { return tt.err })(w, httptest.NewRequest("POST", "/dci/crvs/registry/search", nil))
		var p problem
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatalf("%s: %v in %s", tt.name, err, w.Body)
		}
		if w.Code != tt.status || p.Status != tt.status || len(p.Errors) != 1 || p.Errors[0].Code != tt.code {
			t.Errorf("%s: %d %s; want %d with %s", tt.name, w.Code, w.Body, tt.status, tt.code)
		}
		switch {
		case tt.ack == "" && p.Message != nil:
			t.Errorf("%s: an ACK in a problem that is none: %s", tt.name, w.Body)
		case tt.ack != "" && (p.Message == nil || p.Message.AckStatus != dci.AckErr || p.Message.CorrelationID != tt.ack || p.Message.Error.Code != tt.code):
			t.Errorf("%s: message %+v; want ACK ERR %s under %s", tt.name, p.Message, tt.code, tt.ack)
		}
		if got := logs.Len() > 0; got != tt.logged {
			t.Errorf("%s: logged %v; want %v: %s", tt.name, got, tt.logged, logs.String())
		}
		if tt.hideText != "" && (!strings.Contains(logs.String(), tt.hideText) || strings.Contains(w.Body.String(), tt.hideText)) {
			t.Errorf("%s: %q in the log: %v, in the answer: %v; want only in the log", tt.name, tt.hideText,
				strings.Contains(logs.String(), tt.hideText), strings.Contains(w.Body.String(), tt.hideText))
		}
	}
}

// TestReadBody: a DCI message that is not JSON is refused 415, one over 1 MiB 413, each
// naming the part at fault.
func TestReadBody(t *testing.T) {
	tests := []struct {
		contentType string
		body        string
		kind        fault.Kind
		field       string
	}{
		{"text/plain", "{}", fault.Unsupported, "Content-Type"},
		{"", "{}", fault.Unsupported, "Content-Type"},
		{"application/json", strings.Repeat(" ", maxDCIBody+1), fault.TooLarge, "body"},
		{"application/json; charset=utf-8", "{}", 0, ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
		r.ContentLength = -1 // not announced: read through the limit
		if tt.contentType != "" {
			r.Header.Set("Content-Type", tt.contentType)
		}
		_, err := readBody(httptest.NewRecorder(), r)
		var fe *fault.Error
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("readBody(%q) = %v; want nil", tt.contentType, err)
		case tt.field != "" && (!errors.As(err, &fe) || fe.Kind != tt.kind || fe.Field != tt.field):
			t.Errorf("readBody(%q, %d bytes) = %v; want %v naming %s", tt.contentType, len(tt.body), err, tt.kind, tt.field)
		}
	}
}
