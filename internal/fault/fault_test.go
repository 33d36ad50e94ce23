package fault_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// logged is what a JSON log line holds of an error logged as "err".
func logged(t *testing.T, err error) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Error("failed", "err", err)
	var line struct {
		Err map[string]any `json:"err"`
	}
	if e := json.Unmarshal(buf.Bytes(), &line); e != nil {
		t.Fatalf("log line %s: %v", buf.Bytes(), e)
	}
	return line.Err
}

func TestLogValue(t *testing.T) {
	refused := errors.New("connect: connection refused")
	coded := &fault.Error{Kind: fault.Invalid, Field: "header.sender_uri", Msg: "is not registered", Code: "err.sender_uri.invalid", Err: errors.New("host differs")}
	tests := []struct {
		name string
		err  error
		want map[string]any
	}{
		{"unavailable", fault.Unavailablef(fmt.Errorf("dial tcp: %w", refused), "the store does not answer"),
			map[string]any{"kind": "unavailable", "msg": "the store does not answer", "cause": "dial tcp: connect: connection refused"}},
		{"coded, with field", coded,
			map[string]any{"kind": "invalid", "field": "header.sender_uri", "msg": "is not registered", "code": "err.sender_uri.invalid", "cause": "host differs"}},
		{"a fault under a fault", fault.Unavailablef(coded, "try again"),
			map[string]any{"kind": "unavailable", "msg": "try again", "cause": "header.sender_uri: is not registered: host differs"}},
		{"no cause", fault.NotFoundf("no such thing"),
			map[string]any{"kind": "not_found", "msg": "no such thing"}},
	}
	for _, tt := range tests {
		got := logged(t, tt.err)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: logged %v; want %v", tt.name, got, tt.want)
		}
	}
}

// TestErrorKeepsCausesOutOfSafeText: Error (which callers may show) names the cause of
// internal errors only, as before; the log has every cause.
func TestErrorKeepsCausesOutOfSafeText(t *testing.T) {
	err := fault.Unavailablef(errors.New("connection refused"), "the store does not answer")
	if s := err.Error(); strings.Contains(s, "refused") {
		t.Errorf("Error() = %q; want the message without its cause", s)
	}
	if s := fault.Wrap(errors.New("disk full"), "write").Error(); s != "write failed: disk full" {
		t.Errorf("internal Error() = %q; want its cause", s)
	}
}

func TestCodeOf(t *testing.T) {
	coded := &fault.Error{Kind: fault.Invalid, Field: "f", Msg: "bad", Code: "rjct.filter.invalid"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"plain", errors.New("x"), ""},
		{"no code", fault.Invalidf("f", "bad"), ""},
		{"coded", coded, "rjct.filter.invalid"},
		{"prefixed field keeps it", fault.In("search_request[2]", coded), "rjct.filter.invalid"},
		{"under an uncoded fault", fault.Unavailablef(coded, "later"), "rjct.filter.invalid"},
		{"wrapped", fmt.Errorf("item: %w", coded), "rjct.filter.invalid"},
	}
	for _, tt := range tests {
		if got := fault.CodeOf(tt.err); got != tt.want {
			t.Errorf("CodeOf(%s) = %q; want %q", tt.name, got, tt.want)
		}
	}
}

func TestKindStrings(t *testing.T) {
	for k, want := range map[fault.Kind]string{fault.TooLarge: "too_large", fault.Unsupported: "unsupported_media_type", fault.Unavailable: "unavailable"} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q; want %q", k, got, want)
		}
	}
}
