package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/httpapi"
)

// TestCauseLoggedNotShown: a 503's cause (the store's "connection refused") reaches the
// log, written by the JSON handler the hub logs with, and never the caller's answer.
func TestCauseLoggedNotShown(t *testing.T) {
	const cause = "dial tcp 127.0.0.1:5432: connect: connection refused"
	var logs bytes.Buffer
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Deps{
		Ready: func(context.Context) error { return errors.New(cause) },
		Log:   slog.New(slog.NewJSONHandler(&logs, nil)),
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("GET /readyz = %d %s; want 503", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "connection refused") {
		t.Errorf("the answer shows the cause: %s", body)
	}
	var line struct {
		Msg string `json:"msg"`
		Err struct {
			Kind, Msg, Cause string
		} `json:"err"`
	}
	for l := range strings.Lines(logs.String()) {
		if err := json.Unmarshal([]byte(l), &line); err == nil && line.Msg == "request failed" {
			break
		}
	}
	if line.Err.Cause != cause || line.Err.Kind != "unavailable" || line.Err.Msg == "" {
		t.Errorf("logged err = %+v; want kind unavailable, its message and cause %q\nlog:\n%s", line.Err, cause, logs.String())
	}
}
